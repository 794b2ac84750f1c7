import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { inStore, keep, storeDir } from "./store.ts";

let work: string;
let saved: string | undefined;
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), "wdh-store-"));
  saved = process.env.WDH_CACHE_DIR;
  process.env.WDH_CACHE_DIR = join(work, "cache");
});
afterEach(() => {
  if (saved === undefined) delete process.env.WDH_CACHE_DIR;
  else process.env.WDH_CACHE_DIR = saved;
  rmSync(work, { recursive: true, force: true });
});

describe("the artifact store", () => {
  it("keeps a file under its content, once, and is not changed when the original is rewritten in place", async () => {
    const built = join(work, "System.map");
    writeFileSync(built, "first build\n");
    const a = await keep(built, "System.map");
    expect(a.path).toMatch(new RegExp(`^${storeDir()}/[0-9a-f]{24}-System\\.map$`));
    expect(inStore(a.path)).toBe(true);
    expect((await keep(built, "System.map")).path).toBe(a.path);
    // the next build rewrites the build dir's file in place (a shell redirection does)
    appendFileSync(built, "second build\n");
    expect(readFileSync(a.path, "utf8")).toBe("first build\n");
    const b = await keep(built, "System.map");
    expect(b.path).not.toBe(a.path);
  });
});
