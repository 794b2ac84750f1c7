// Config edges found while trying the harness as a new user: a YAML syntax error names line and column;
// a folder of `git format-patch` output without series.yaml is a series.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { UsageError } from "../lib/errors.ts";
import { parseYaml } from "./load.ts";
import { bareSeries, loadSeries } from "./resolve.ts";
import { ProfileSchema } from "./schema.ts";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "wdh-fp-"));
  dirs.push(d);
  return d;
};
const patch = (n: number, subject: string, trailer = "") => `From 0000 Mon Sep 17 00:00:00 2001\nSubject: [PATCH ${n}/2] ${subject}\n\n---\n${trailer}`;

describe("a YAML syntax error", () => {
  it("names file:line:column, as a compiler does", () => {
    let error: UsageError | undefined;
    try {
      parseYaml(ProfileSchema, "name: x\ntree:\n  debian: [a\nb: c\n", "my.yaml");
    } catch (e) {
      error = e as UsageError;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect(error!.message).toMatch(/^my\.yaml:4:1: not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a \]$/);
  });
});

describe("a folder of git format-patch output, no series.yaml", () => {
  it("takes the patches in file order, leaves the cover letter out, and the base from base-commit:", () => {
    const dir = tmp();
    writeFileSync(join(dir, "0000-cover-letter.patch"), "Subject: [PATCH 0/2] cover\n");
    writeFileSync(join(dir, "0002-second.patch"), patch(2, "second", "base-commit: 0123456789abcdef0123456789abcdef01234567\n"));
    writeFileSync(join(dir, "0001-first.patch"), patch(1, "first"));
    writeFileSync(join(dir, "notes.txt"), "not a patch\n");
    const s = loadSeries(dir);
    expect(s.source).toEqual({ kind: "files", files: [join(dir, "0001-first.patch"), join(dir, "0002-second.patch")] });
    expect(s.manifest.base).toBe("0123456789abcdef0123456789abcdef01234567");
    expect(s.name).toMatch(/^wdh-fp-/);
  });

  it("a quilt series file gives the order", () => {
    const dir = tmp();
    writeFileSync(join(dir, "a.patch"), patch(1, "a"));
    writeFileSync(join(dir, "b.patch"), patch(2, "b"));
    writeFileSync(join(dir, "series"), "# quilt\nb.patch\na.patch -p1\n");
    expect(bareSeries(dir).source).toEqual({ kind: "files", files: [join(dir, "b.patch"), join(dir, "a.patch")] });
    expect(bareSeries(dir).manifest.base).toBe("");
  });

  it("an empty folder is a usage error that says what it looked for", () => {
    expect(() => loadSeries(tmp())).toThrow(/no series\.yaml, no quilt series file and no \.patch files/);
  });
});
