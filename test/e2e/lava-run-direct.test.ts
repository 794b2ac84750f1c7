// The default machine through a real local lab (lava-dispatcher's lava-run, the qemu device type from
// lava-server's .deb), driven through the executor's own functions rather than the CLI: the default
// kernel and initramfs of a default boot test this test runs first, baseline passing behind the SMMUv3.
// Skipped only where lava-run is not installed (CI installs it).
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import * as v from "valibot";
import { beforeAll, describe, expect, it } from "vitest";
import { MachineSchema } from "../../harness/config/schema.ts";
import { createExec } from "../../harness/lib/exec.ts";
import { repoRoot } from "../../harness/lib/paths.ts";
import { caseId, jobYaml, lavaJob } from "../../harness/executors/lava/job.ts";
import { testOutcomes } from "../../harness/executors/lava/log.ts";
import { lavaMachineOf } from "../../harness/executors/lava/machine.ts";
import { runLocalLava } from "../../harness/executors/lava/local.ts";
import { lavaRamdisk } from "../../harness/executors/lava/ramdisk.ts";
import { cli, runJson } from "./cli.ts";

interface Found {
  image: string;
  initramfs: string;
  tests: { suite: string; name: string; command: string[]; timeoutSeconds: number }[];
  append: string[];
}

/** The kernel, initramfs and baseline tests of the default boot test's run folder, or why they are not there. */
function runOf(runDir: string): Found | string {
  const file = join(runDir, "manifest.json");
  if (!runDir || !existsSync(file)) return `the boot test named no run folder with a manifest ("${runDir}")`;
  const m = runJson(runDir, "manifest.json");
  if (!m.inputs?.machine?.endsWith("/virt-smmuv3.yaml")) return `the boot test ran on ${m.inputs?.machine}, not qemu/virt-smmuv3.yaml`;
  const image = m.artifacts?.Image?.path;
  const initramfs = m.artifacts?.initramfs?.path;
  if (!image || !initramfs || !existsSync(image) || !existsSync(initramfs)) return `its kernel or initramfs is not in the store (${image}, ${initramfs})`;
  const tests = (m.guestTests ?? []).filter((t: { suite: string }) => t.suite === "baseline");
  if (tests.length !== 4) return `it ran ${tests.length} baseline tests, not 4`;
  return { image, initramfs, tests, append: m.inputs?.append ?? [] };
}

let found: Found | undefined;

describe.skipIf(!existsSync("/usr/bin/lava-run"))("the default machine through lava-run", () => {
  // Its own default run, never "the newest run in runs/": in the full suite that is whatever ran last
  // (a bisection's kernel that panics, say), which is how this test once failed in CI. With the kernel
  // cached the run is a boot and four tests.
  beforeAll(async () => {
    const r = await cli("boot-test", "--tests", "baseline");
    if (r.exitCode !== 0) throw new Error(`the default boot test failed, so there is no kernel to hand to lava-run:\n${r.output}`);
    const got = runOf(r.runDir);
    if (typeof got === "string") throw new Error(got);
    found = got;
  });
  it("boots the cached default kernel behind virt,iommu=smmuv3 and passes baseline through lava-test-case", async () => {
    expect(found, "a default run whose kernel and initramfs are in the store").toBeDefined();
    const dir = mkdtempSync(join(tmpdir(), "wdh-lava-"));
    writeFileSync(join(dir, "ramdisk.cpio.gz"), lavaRamdisk(readFileSync(found!.initramfs)));
    const machine = lavaMachineOf(v.parse(MachineSchema, parse(readFileSync(join(repoRoot, "qemu/virt-smmuv3.yaml"), "utf8"))), [
      "virtio_crypto.uacce_devices=0000:00:03.0",
    ]);
    const input = {
      jobName: "wdh baseline",
      kernelUrl: `file://${found!.image}`,
      ramdiskUrl: `file://${join(dir, "ramdisk.cpio.gz")}`,
      machine,
      tests: found!.tests,
    };
    const job = lavaJob(input) as { context: Record<string, unknown> };
    const run = await runLocalLava({ dir, jobYaml: jobYaml(input), context: job.context, timeoutMs: 600_000 }, createExec());
    expect(run.log.job).toBe("pass");
    expect(run.log.console.some((l) => /arm-smmu-v3 9050000\.smmuv3: .*oas 44-bit/.test(l))).toBe(true);
    expect(testOutcomes(run.log, found!.tests, caseId).map((t) => `${t.name}:${t.status}`)).toEqual(found!.tests.map((t) => `${t.name}:pass`));
    // the time is a figure, not a test (npm run bench and test/e2e/lava.test.ts compare it with a local run)
    process.stdout.write(`lava-run job: ${(run.durationMs / 1000).toFixed(1)} s\n`);
  });
});
