// The kconfig stage on the real Debian 6.12 tree and the tree's own merge_config.sh: an option whose
// dependency is missing is dropped by Kconfig, and the stage names it.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createExec } from "../../harness/lib/exec.ts";
import { treeStateId } from "../../harness/lib/git.ts";
import { repoRoot } from "../../harness/lib/paths.ts";
import type { Deps } from "../../harness/lib/stage.ts";
import { defaultToolchain } from "../../harness/stages/build/make.ts";
import { configureKernel } from "../../harness/stages/kconfig/kconfig.ts";
import { prepareTree, type KernelTree } from "../../harness/stages/tree/tree.ts";
import { holdTree } from "../../harness/commands/build-steps.ts";

const deps: Deps = { exec: createExec(), signal: new AbortController().signal, progress: () => {} };
let tree: KernelTree;
let work: string;
let release = () => {};

// The cached tree is shared with every other run and test file: held as a run holds it, so that no
// bisection checks out another commit under merge_config.sh.
beforeAll(async () => {
  tree = (await prepareTree({ kind: "debian", package: "linux-source-6.12" }, deps)).output!;
  release = await holdTree(tree.path, deps.signal, () => {});
  work = mkdtempSync(join(tmpdir(), "wdh-kconfig-"));
}, 600_000);
afterAll(() => {
  release();
  rmSync(work, { recursive: true, force: true });
});

describe("configureKernel on linux-source-6.12", () => {
  it("fails naming an option that merge_config.sh + olddefconfig dropped", async () => {
    // ARM_SMMU_V3 depends on IOMMU_SUPPORT, which this fragment set does not ask for.
    const fragment = join(work, "smmu-only.config");
    writeFileSync(fragment, "CONFIG_ARM_SMMU_V3=y\n");
    const r = await configureKernel(
      {
        treeDir: tree.path,
        treeStateId: treeStateId(tree.state),
        buildDir: join(work, "build"),
        base: "allnoconfig",
        fragments: [join(repoRoot, "kernel-config/base.config"), fragment],
        toolchain: defaultToolchain,
        logFile: join(work, "build.log"),
      },
      deps,
    );
    expect(r.status).toBe("fail");
    expect(r.reason).toBe("1 Kconfig option(s) did not survive: CONFIG_ARM_SMMU_V3");
    expect(r.details).toEqual([
      "CONFIG_ARM_SMMU_V3: smmu-only.config:1 asked for =y, .config has it not set: drivers/iommu/Kconfig:390 depends on IOMMU_SUPPORT && ARM64 (now IOMMU_SUPPORT=n, ARM64=y)",
    ]);
  });

  it("keeps every option of the default fragments", async () => {
    const fragments = ["base", "ssh", "pci-virtio", "iommu", "crypto", "uacce", "debug"].map((f) => join(repoRoot, "kernel-config", `${f}.config`));
    const r = await configureKernel(
      {
        treeDir: tree.path,
        treeStateId: treeStateId(tree.state),
        buildDir: join(work, "build-default"),
        base: "allnoconfig",
        fragments,
        toolchain: defaultToolchain,
        logFile: join(work, "build.log"),
      },
      deps,
    );
    expect(r.status, r.details?.join("\n")).toBe("pass");
  });

  it("a reused .config reports the commands with this run's fragment paths, not those of the run that made it", async () => {
    // Another clone with the same fragments: same key (contents, not paths), so its .config is reused, and
    // reproduce.sh must still name files that exist here (CI once ran with a cache made by another clone).
    const names = ["base", "ssh"];
    const input = (dir: string) => ({
      treeDir: tree.path,
      treeStateId: treeStateId(tree.state),
      buildDir: join(work, "build-moved"),
      base: "allnoconfig" as const,
      fragments: names.map((f) => join(dir, `${f}.config`)),
      toolchain: defaultToolchain,
      logFile: join(work, "build.log"),
    });
    const first = join(work, "clone-a");
    const second = join(work, "clone-b");
    for (const dir of [first, second]) {
      mkdirSync(dir);
      for (const f of names) copyFileSync(join(repoRoot, "kernel-config", `${f}.config`), join(dir, `${f}.config`));
    }
    expect((await configureKernel(input(first), deps)).output?.reused).toBe(false);
    rmSync(first, { recursive: true });
    const again = await configureKernel(input(second), deps);
    expect(again.output?.reused).toBe(true);
    const merge = again.ran?.find((c) => c.argv[0] === "scripts/kconfig/merge_config.sh");
    expect(merge?.argv.slice(-2)).toEqual(input(second).fragments);
  });
});
