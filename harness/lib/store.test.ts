import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { pruneRuns } from "../commands/replay.ts";
import { authorizedKeyParam } from "../stages/rootfs/rootfs.ts";
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

  it("prune keeps the newest run folders and every artifact a kept run (or a step inside it) names", async () => {
    const runs = join(work, "runs");
    const file = (text: string) => (writeFileSync(join(work, "f"), text), keep(join(work, "f"), "Image"));
    const [old, kept, nested] = [await file("old kernel"), await file("kept kernel"), await file("bisect step kernel")];
    const run = (id: string, artifacts: Record<string, { path: string; sha256: string }>, sub?: string) => {
      const dir = join(runs, id, ...(sub ? [sub] : []));
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "manifest.json"), JSON.stringify({ id, artifacts }));
    };
    run("20260101T000000-boot-test-1", { Image: old });
    run("20260102T000000-bisect-2", {});
    run("20260102T000000-bisect-2", { Image: nested }, "points/step-1");
    run("20260103T000000-boot-test-3", { Image: kept });
    const r = pruneRuns(2, runs);
    expect(r.kept).toEqual(["20260103T000000-boot-test-3", "20260102T000000-bisect-2"]);
    expect(r.removedRuns).toEqual(["20260101T000000-boot-test-1"]);
    expect(existsSync(old.path)).toBe(false);
    expect(existsSync(kept.path)).toBe(true);
    expect(existsSync(nested.path)).toBe(true);
    expect(r.removedArtifacts).toEqual([old.path]);
  });

  it("the run's SSH key travels on the kernel command line as TYPE:BASE64", () => {
    expect(authorizedKeyParam("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFoo+bar/= wdh-run\n")).toBe("wdh.authorized_key=ssh-ed25519:AAAAC3NzaC1lZDI1NTE5AAAAIFoo+bar/=");
    expect(() => authorizedKeyParam("ssh-ed25519 AAAA rm -rf; x")).not.toThrow();
    expect(() => authorizedKeyParam("ssh-ed25519 AAAA$(reboot)")).toThrow(/not an OpenSSH public key/);
  });
});
