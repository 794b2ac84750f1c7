// WarpDrive with SVA end to end (issue 11): the harness fetches Debian's 7.2 source, applies
// patches/warpdrive-sva, builds QEMU with patches/qemu-sva, boots, and the processes sharing one
// virtio-crypto device through their own PASIDs pass sharing, cross-process and kernel isolation,
// lifecycle, malformed requests failing alone, and seccomp; every SMMU event the run saw was provoked by a test that said it would, and
// carries the SubstreamID of the process that provoked it.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli, COLD_KERNEL_AND_QEMU, runJson as json } from "./cli.ts";

type Test = { suite: string; name: string; status: string; metrics?: Record<string, { value: number }> };

describe("npm run boot-test -- --profile sva", () => {
  it("shares one virtio-crypto device among processes, each confined to its own address space by its PASID", COLD_KERNEL_AND_QEMU, async () => {
    const run = await cli("boot-test", "--profile", "sva", "--tests", "baseline,sva-emulation,warpdrive-sva");
    expect(run.exitCode, run.output).toBe(0);
    const r = json(run.runDir, "results.json");
    const statuses = r.tests.map((t: Test) => `${t.suite}/${t.name}:${t.status}`);
    for (const name of ["sharing", "isolation-cross", "isolation-kernel", "lifecycle", "malformed", "seccomp"]) {
      expect(statuses, name).toContain(`warpdrive-sva/${name}:pass`);
    }
    expect(statuses.filter((s: string) => !s.endsWith(":pass"))).toEqual([]);
    // the tree and the series are the ones asked for, and the series is checkpatch clean
    const manifest = json(run.runDir, "manifest.json");
    expect(JSON.stringify(manifest)).toContain("linux-source-7.2");
    const console = readFileSync(join(run.runDir, "console.log"), "utf8");
    expect(console).toMatch(/virtio_crypto virtio\d+: 4 data queues shared through uacce with SVA/);
    // the isolation tests provoked SMMU events, each with a non-zero SubstreamID (the process's PASID)
    expect(console).toMatch(/arm-smmu-v3 \S+: event: F_TRANSLATION client: 0000:01:00\.0 sid: 0x100 ssid: 0x[1-9a-f]/);
    expect(console).not.toMatch(/event: F_TRANSLATION client: 0000:01:00\.0 sid: 0x100 ssid: 0x0 /);
  });
});
