// The QEMU stages on real tools and a QEMU-shaped fake source package: apt-get source from a Debian
// mirror on 127.0.0.1 through the private apt configuration, the cache, a series that does not apply,
// configure + ninja with the build key, a compile error named with file:line, and the qtest check.
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UsageError, InfraError } from "../../harness/lib/errors.ts";
import { createExec } from "../../harness/lib/exec.ts";
import { git, treeState } from "../../harness/lib/git.ts";
import { repoRoot } from "../../harness/lib/paths.ts";
import type { Deps } from "../../harness/lib/stage.ts";
import { buildQemu, qemuBuildDirFor } from "../../harness/stages/qemu-build/build.ts";
import { checkQemu } from "../../harness/stages/qemu-build/check.ts";
import { debSrcEntry, prepareQemuTree, type QemuSourceSpec, type QemuTree } from "../../harness/stages/qemu-build/source.ts";
import { applySeries } from "../../harness/stages/series/series.ts";
import { fakeSourceMirror, type FakeMirror } from "./fake-apt-mirror.ts";

const exec = createExec();
const deps: Deps = { exec, signal: new AbortController().signal, progress: () => {} };
const fixture = join(repoRoot, "test/fixtures/fake-qemu");
let work: string;
let mirror: FakeMirror;
let savedCache: string | undefined;
let spec: Extract<QemuSourceSpec, { kind: "debian" }>;

beforeAll(async () => {
  savedCache = process.env.WDH_CACHE_DIR;
  work = mkdtempSync(join(tmpdir(), "wdh-qemu-"));
  process.env.WDH_CACHE_DIR = join(work, "cache");
  mirror = await fakeSourceMirror(exec, fixture, join(work, "mirror"), { name: "wdh-fakeqemu", upstream: "0.1+ds", suite: "sid" });
  spec = { kind: "debian", package: "wdh-fakeqemu", version: "1:0.1+ds-1", suite: "sid", mirror: mirror.url, keyring: undefined };
});
afterAll(async () => {
  await mirror?.close();
  rmSync(work, { recursive: true, force: true });
  if (savedCache === undefined) delete process.env.WDH_CACHE_DIR;
  else process.env.WDH_CACHE_DIR = savedCache;
});

function patchFile(name: string, text: string): string {
  const file = join(work, name);
  writeFileSync(file, text);
  return file;
}

const patch = (file: string) => ({ series: "fake", file, provenance: { kind: "file" as const, file }, attestations: [] });

const breakFakeC = `From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001
From: Test <test@example.invalid>
Date: Tue, 1 Dec 2026 00:00:00 +0000
Subject: [PATCH] hw/fake: break the build

Signed-off-by: Test <test@example.invalid>
---
 hw/fake.c | 2 +-
 1 file changed, 1 insertion(+), 1 deletion(-)

diff --git a/hw/fake.c b/hw/fake.c
--- a/hw/fake.c
+++ b/hw/fake.c
@@ -3,5 +3,5 @@
 int main(void)
 {
-	puts("QEMU emulator version 0.1.0 (fake)");
+	puts("QEMU emulator version 0.1.0 (fake)")
 	return 0;
 }
--
2.39.5
`;

describe("QEMU source from a Debian mirror", () => {
  let tree: QemuTree;

  it("writes a deb-src entry that trusts only an unsigned local mirror", () => {
    expect(debSrcEntry({ mirror: "http://deb.debian.org/debian", suite: "sid", keyring: "/usr/share/keyrings/debian-archive-keyring.gpg" })).toContain(
      "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg",
    );
    expect(debSrcEntry({ mirror: "http://127.0.0.1:1", suite: "sid", keyring: undefined })).toContain("Trusted: yes");
  });

  it("fetches with apt-get source, applies Debian's patches and commits one base commit", async () => {
    const r = await prepareQemuTree(spec, deps);
    expect(r.status).toBe("pass");
    tree = r.output!;
    expect(tree.description).toBe("debian wdh-fakeqemu 1:0.1+ds-1");
    expect(tree.debian).toEqual({ package: "wdh-fakeqemu", version: "1:0.1+ds-1" });
    expect(tree.qemuVersion).toBe("0.1.0");
    expect(readFileSync(join(tree.path, "DEBIAN-PATCHED"), "utf8")).toBe("applied by dpkg-source\n");
    expect(existsSync(join(tree.path, ".pc"))).toBe(false);
    expect((await treeState(exec, tree.path)).dirty).toBeNull();
    expect(tree.fetchArgv.map((a) => a.slice(-2).join(" "))).toEqual([expect.stringContaining("update"), "--only-source wdh-fakeqemu=1:0.1+ds-1"]);
    // The host's apt configuration was not used: the private one named only our mirror.
    expect(mirror.requests.some((u) => u.endsWith("/dists/sid/Release") || u.endsWith("/dists/sid/InRelease"))).toBe(true);
  });

  it("uses the cached tree afterwards, without the mirror", async () => {
    const before = mirror.requests.length;
    const again = await prepareQemuTree({ ...spec, mirror: "http://127.0.0.1:9" }, deps);
    expect(again.output!.baseCommit).toBe(tree.baseCommit);
    expect(mirror.requests.length).toBe(before);
  });

  it("a version the mirror does not have is a usage error; an unreachable mirror is infrastructure", async () => {
    await expect(prepareQemuTree({ ...spec, version: "1:9.9+ds-1" }, deps)).rejects.toThrow(UsageError);
    await expect(prepareQemuTree({ ...spec, version: "1:9.8+ds-1", mirror: "http://127.0.0.1:9" }, deps)).rejects.toThrow(InfraError);
  });

  it("a series that does not apply to QEMU is named with its hunk and leaves the tree as it was", async () => {
    const bad = patchFile("0001-bad.patch", breakFakeC.replaceAll("int main(void)", "int main(int argc)"));
    const r = await applySeries(
      { treeDir: tree.path, managed: true, baseCommit: tree.baseCommit, patches: [patch(bad)], logFile: join(work, "series.log") },
      deps,
    );
    expect(r.status).toBe("fail");
    expect(r.reason).toMatch(/patch 1\/1 0001-bad\.patch does not apply: hw\/fake\.c/);
    expect((await treeState(exec, tree.path)).head).toBe(tree.baseCommit);
  });

  describe("build and check", () => {
    const build = (state: QemuTree["state"], configure: string[] = ["--target-list=aarch64-softmmu"]) =>
      buildQemu(
        {
          treeDir: tree.path,
          state,
          configure,
          extraTargets: ["tests/qtest/fake-test", "tests/qtest/fake-fail"],
          ccache: false,
          buildDir: qemuBuildDirFor(tree.path, true),
          logFile: join(work, "qemu-build.log"),
          jobs: 2,
        },
        deps,
      );

    it("configures and builds once; the same tree, configure line and compiler are not built again", async () => {
      const state = await treeState(exec, tree.path);
      const first = await build(state);
      expect(first.status).toBe("pass");
      expect(first.output).toMatchObject({ upToDate: false, reconfigured: true });
      expect(first.output!.buildDir).toBe(join(tree.path, "build"));
      expect((await exec(first.output!.binary, [])).stdout).toContain("QEMU emulator version 0.1.0 (fake)");
      // the build dir is ignored by nobody's .gitignore here, but it must not make the tree dirty for the key
      const second = await build(state);
      expect(second.output).toMatchObject({ upToDate: true, key: first.output!.key });
      // another configure line: configured again, another key
      const third = await build(state, ["--target-list=aarch64-softmmu", "--disable-docs"]);
      expect(third.output).toMatchObject({ upToDate: false, reconfigured: true });
      expect(third.output!.key).not.toBe(first.output!.key);
      expect(readFileSync(join(third.output!.buildDir, "config.log"), "utf8")).toContain("--disable-docs");
    });

    it("a compile error in the series is a failed build naming file:line in the QEMU tree", async () => {
      const broken = patchFile("0001-break.patch", breakFakeC);
      const applied = await applySeries(
        { treeDir: tree.path, managed: true, baseCommit: tree.baseCommit, patches: [patch(broken)], logFile: join(work, "series.log") },
        deps,
      );
      expect(applied.status).toBe("pass");
      const r = await build(applied.output!.state);
      expect(r.status).toBe("fail");
      expect(r.reason).toMatch(/^QEMU build failed: hw\/fake\.c:5:\d+: .*expected ';'/);
      await git(exec, tree.path, ["checkout", "-q", "-f", "--detach", tree.baseCommit]);
    });

    it("runs the machine's qtests against the built binary; a failing point fails the stage; a pass is cached per build", async () => {
      const b = (await build(await treeState(exec, tree.path))).output!;
      const input = { buildDir: b.buildDir, binary: b.binary, buildKey: b.key, timeoutMs: 30_000, logFile: join(work, "check.log") };
      const ok = await checkQemu({ ...input, tests: ["fake-test"] }, deps);
      expect(ok.status).toBe("pass");
      expect(ok.output![0]!.points.map((p) => `${p.status} ${p.name}`)).toEqual(["pass /fake/runs", "pass /fake/binary-given"]);
      const cached = await checkQemu({ ...input, tests: ["fake-test"] }, deps);
      expect(cached.output![0]!.cached).toBe(true);
      const bad = await checkQemu({ ...input, tests: ["fake-fail"] }, deps);
      expect(bad.status).toBe("fail");
      expect(bad.details).toContain("fake-fail: not ok /fake/broken");
      // the qtest really checks what it is given: without a binary its point fails
      const noBinary = await checkQemu({ ...input, buildKey: "other", binary: join(work, "no-such-qemu"), tests: ["fake-test"] }, deps);
      expect(noBinary.status).toBe("fail");
      const missing = await checkQemu({ ...input, tests: ["no-such-qtest"] }, deps);
      expect(missing.reason).toMatch(/no-such-qtest.*was not built/);
    });

    it("a tree with local changes is always handed to ninja, which rebuilds only what changed", async () => {
      appendFileSync(join(tree.path, "hw/fake.c"), "/* touched */\n");
      const r = await build(await treeState(exec, tree.path));
      expect(r.output!.upToDate).toBe(false);
      const log = readFileSync(join(work, "qemu-build.log"), "utf8").split("$ ninja").pop()!;
      expect(log).toMatch(/\[1\/2\] .*hw\/fake\.c/);
      expect(log).not.toMatch(/fake-test\.c/);
      await git(exec, tree.path, ["checkout", "-q", "-f", "--detach", tree.baseCommit]);
    });
  });
});
