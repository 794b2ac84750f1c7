import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { keep } from "../lib/store.ts";
import { pruneRuns } from "./replay.ts";

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

describe("prune", () => {
  it("prune keeps the newest run folders and every artifact a kept run (or a step inside it) names", async () => {
    const runs = join(work, "runs");
    const file = (text: string) => (writeFileSync(join(work, "f"), text), keep(join(work, "f"), "Image"));
    const [old, kept, nested] = [await file("old kernel"), await file("kept kernel"), await file("bisect step kernel")];
    const run = (id: string, startedAt: string, artifacts: Record<string, { path: string; sha256: string }>, sub?: string) => {
      const dir = join(runs, id, ...(sub ? [sub] : []));
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "manifest.json"), JSON.stringify({ id, startedAt, artifacts }));
    };
    run("20260101T000000-boot-test-1", "2026-01-01T00:00:00Z", { Image: old });
    run("20260102T000000-bisect-2", "2026-01-02T00:00:00Z", {});
    run("20260102T000000-bisect-2", "2026-01-02T00:10:00Z", { Image: nested }, "points/step-1");
    run("20260103T000000-boot-test-3", "2026-01-03T00:00:00Z", { Image: kept });
    // a folder named by hand, older than all: its name sorts after every timestamped id
    run("replay-broken-123", "2025-12-31T00:00:00Z", {});
    const r = pruneRuns(2, runs);
    expect(r.kept).toEqual(["20260103T000000-boot-test-3", "20260102T000000-bisect-2"]);
    expect(r.removedRuns).toEqual(["20260101T000000-boot-test-1", "replay-broken-123"]);
    expect(existsSync(old.path)).toBe(false);
    expect(existsSync(kept.path)).toBe(true);
    expect(existsSync(nested.path)).toBe(true);
    expect(r.removedArtifacts).toEqual([old.path]);
  });
});
