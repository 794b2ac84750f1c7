// The checkpatch stage with the Debian 6.12 tree's own scripts/checkpatch.pl: the WarpDrive series is
// clean, a sloppy patch is not, and enforce turns its errors into a failed stage.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSeries } from "../../harness/config/resolve.ts";
import { createExec } from "../../harness/lib/exec.ts";
import type { Deps } from "../../harness/lib/stage.ts";
import { runCheckpatch } from "../../harness/stages/checkpatch/checkpatch.ts";
import { prepareTree, type KernelTree } from "../../harness/stages/tree/tree.ts";
import { holdTree } from "../../harness/commands/build-steps.ts";

const lines: string[] = [];
const deps: Deps = { exec: createExec(), signal: new AbortController().signal, progress: (m) => lines.push(m) };
let tree: KernelTree;
let work: string;

const sloppy = `From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001
From: A Developer <dev@example.org>
Date: Wed, 25 Nov 2026 10:00:00 +0000
Subject: [PATCH] crypto: virtio - a sloppy change

---
 drivers/crypto/virtio/virtio_crypto_core.c | 2 ++
 1 file changed, 2 insertions(+)

diff --git a/drivers/crypto/virtio/virtio_crypto_core.c b/drivers/crypto/virtio/virtio_crypto_core.c
--- a/drivers/crypto/virtio/virtio_crypto_core.c
+++ b/drivers/crypto/virtio/virtio_crypto_core.c
@@ -10,6 +10,8 @@
 #include <linux/cpu.h>
 #include <crypto/engine.h>
 #include <uapi/linux/virtio_crypto.h>
+int sloppy_counter = 0; 
+int sloppy( void ) { return sloppy_counter; }
 #include "virtio_crypto_common.h"
 
 
-- 
2.39.5
`;

let release = () => {};
// The cached tree is shared with other runs and test files: held as a run holds it while its
// checkpatch.pl runs (a bisection elsewhere would check out other commits under it).
beforeAll(async () => {
  tree = (await prepareTree({ kind: "debian", package: "linux-source-6.12" }, deps)).output!;
  release = await holdTree(tree.path, deps.signal, () => {});
  work = mkdtempSync(join(tmpdir(), "wdh-checkpatch-"));
}, 600_000);
afterAll(() => {
  release();
  rmSync(work, { recursive: true, force: true });
});

describe("runCheckpatch with the tree's checkpatch.pl", () => {
  it("finds the WarpDrive series clean, one verdict per patch", async () => {
    const s = loadSeries("warpdrive-virtio");
    const patches = s.source.kind === "files" ? s.source.files.map((file) => ({ series: s.name, file })) : [];
    const r = await runCheckpatch({ treeDir: tree.path, patches, mode: "enforce", logFile: join(work, "checkpatch.log") }, deps);
    expect(r.status).toBe("pass");
    // one verdict per patch of the series, whatever its length
    expect(patches.length).toBeGreaterThanOrEqual(5);
    expect(r.output!.map((v) => v.verdict)).toEqual(patches.map(() => "clean"));
    const n = patches.length;
    expect(lines.filter((l) => new RegExp(`^\\d+\\/${n} .*: 0 errors, 0 warnings, 0 checks$`).test(l))).toHaveLength(n);
  }, 300_000);

  it("reports a sloppy patch's errors with their lines, and enforce fails the stage", async () => {
    const file = join(work, "0001-sloppy.patch");
    writeFileSync(file, sloppy);
    const report = await runCheckpatch({ treeDir: tree.path, patches: [{ series: "t", file }], mode: "report", logFile: join(work, "checkpatch.log") }, deps);
    expect(report.status).toBe("warn");
    const v = report.output![0]!;
    expect(v.verdict).toBe("errors");
    expect(v.messages.join("\n")).toMatch(/ERROR:MISSING_SIGN_OFF/);
    expect(v.messages.join("\n")).toMatch(/ERROR:TRAILING_WHITESPACE: trailing whitespace \(drivers\/crypto\/virtio\/virtio_crypto_core.c:13\)/);
    const enforce = await runCheckpatch({ treeDir: tree.path, patches: [{ series: "t", file }], mode: "enforce", logFile: join(work, "checkpatch.log") }, deps);
    expect(enforce.status).toBe("fail");
    expect(enforce.reason).toBe("checkpatch: 1 patch(es) with errors (--checkpatch enforce)");
  }, 120_000);
});
