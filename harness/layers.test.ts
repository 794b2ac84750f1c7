// The floors of harness/: lib < config < stages < executors < commands < cli. A file may import from its
// own floor and the floors below, never from one above (data flows one way; a lower floor that needs
// something from above is missing a parameter or a type in its own floor).
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

export const FLOORS = ["lib", "config", "stages", "executors", "commands", "cli"] as const;
const root = dirname(new URL(import.meta.url).pathname);

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

/** Relative import and export-from specifiers of a TypeScript file (type-only ones too: they couple as much). */
export function importsOf(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+["'](\.[^"']+)["']/g)) out.push(m[1]!);
  for (const m of text.matchAll(/import\(\s*["'](\.[^"']+)["']\s*\)/g)) out.push(m[1]!);
  return out;
}

function floorOf(file: string): number {
  const top = relative(root, file).split("/")[0]!;
  return FLOORS.indexOf(top as (typeof FLOORS)[number]);
}

export function layerViolations(): string[] {
  const bad: string[] = [];
  for (const file of files(root)) {
    const own = floorOf(file);
    if (own < 0) continue;
    for (const spec of importsOf(readFileSync(file, "utf8"))) {
      const target = resolve(dirname(file), spec);
      const floor = floorOf(target);
      if (floor > own) bad.push(`${relative(root, file)} imports ${relative(root, target)} (${FLOORS[own]} < ${FLOORS[floor]})`);
    }
  }
  return bad;
}

describe("import floors", () => {
  it("every top folder of harness/ is a known floor", () => {
    const tops = readdirSync(root, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    expect(tops.filter((t) => !(FLOORS as readonly string[]).includes(t))).toEqual([]);
  });
  it("no file imports from a floor above its own", () => {
    expect(layerViolations()).toEqual([]);
  });
  it("sees an upward import when there is one", () => {
    expect(importsOf(`import { x } from "../cli/run-steps.ts";\nimport type { Y } from "../../stages/tree/tree.ts";\nexport { z } from "./z.ts";`)).toEqual([
      "../cli/run-steps.ts",
      "../../stages/tree/tree.ts",
      "./z.ts",
    ]);
  });
});
