// The default machine through a real local lab (lava-dispatcher's lava-run, the qemu device type from
// lava-server's .deb), driven through the executor's own functions rather than the CLI: the default
// kernel and initramfs of the newest default run (made first when there is none, as on a fresh clone),
// baseline passing behind the SMMUv3. Skipped only where lava-run is not installed (CI installs it).
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
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
import { cli } from "./cli.ts";

interface Found { image: string; initramfs: string; tests: { suite: string; name: string; command: string[]; timeoutSeconds: number }[]; append: string[] }

/** The newest run of the default machine whose kernel and initramfs are still in the store. */
function cachedDefaultRun(): Found | undefined {
  const runs = join(repoRoot, "runs");
  if (!existsSync(runs)) return undefined;
  for (const id of readdirSync(runs).sort().reverse()) {
    const file = join(runs, id, "manifest.json");
    if (!existsSync(file)) continue;
    const m = JSON.parse(readFileSync(file, "utf8"));
    const image = m.artifacts?.Image?.path;
    const initramfs = m.artifacts?.initramfs?.path;
    const tests = (m.guestTests ?? []).filter((t: { suite: string }) => t.suite === "baseline");
    if (m.inputs?.machine?.endsWith("/virt-smmuv3.yaml") && image && initramfs && existsSync(image) && existsSync(initramfs) && tests.length === 4) {
      return { image, initramfs, tests, append: m.inputs?.append ?? [] };
    }
  }
  return undefined;
}

let found: Found | undefined;

describe.skipIf(!existsSync("/usr/bin/lava-run"))("the default machine through lava-run", () => {
  beforeAll(async () => {
    found = cachedDefaultRun();
    if (found) return;
    const r = await cli("boot-test", "--tests", "baseline", "--quiet");
    if (r.exitCode !== 0) throw new Error(`the default boot test failed, so there is no kernel to hand to lava-run:\n${r.output}`);
    found = cachedDefaultRun();
  });
  it("boots the cached default kernel behind virt,iommu=smmuv3 and passes baseline through lava-test-case", async () => {
    expect(found, "a default run whose kernel and initramfs are in the store").toBeDefined();
    const dir = mkdtempSync(join(tmpdir(), "wdh-lava-"));
    writeFileSync(join(dir, "ramdisk.cpio.gz"), lavaRamdisk(readFileSync(found!.initramfs)));
    const machine = lavaMachineOf(v.parse(MachineSchema, parse(readFileSync(join(repoRoot, "qemu/virt-smmuv3.yaml"), "utf8"))), ["virtio_crypto.uacce_devices=0000:00:03.0"]);
    const input = { jobName: "wdh baseline", kernelUrl: `file://${found!.image}`, ramdiskUrl: `file://${join(dir, "ramdisk.cpio.gz")}`, machine, tests: found!.tests };
    const job = lavaJob(input) as { context: Record<string, unknown> };
    const run = await runLocalLava({ dir, jobYaml: jobYaml(input), context: job.context, timeoutMs: 600_000 }, createExec());
    expect(run.log.job).toBe("pass");
    expect(run.log.console.some((l) => /arm-smmu-v3 9050000\.smmuv3: .*oas 44-bit/.test(l))).toBe(true);
    expect(testOutcomes(run.log, found!.tests, caseId).map((t) => `${t.name}:${t.status}`)).toEqual(found!.tests.map((t) => `${t.name}:pass`));
    // the time is a figure, not a test (npm run bench and test/e2e/lava.test.ts compare it with a local run)
    process.stdout.write(`lava-run job: ${(run.durationMs / 1000).toFixed(1)} s\n`);
  });
});
