// The SVA machine end to end: the harness fetches Debian's QEMU 10.2.2 source, applies patches/qemu-sva,
// builds it, runs QEMU's own qtests for the series, boots the default 6.12 job on it, and every suite
// passes, the guest seeing the SMMUv3's substreams and the crypto device's PASID capability.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli, COLD_QEMU, runJson as json } from "./cli.ts";

type Stage = { stage: string; status: string; reason?: string };

describe("npm run boot-test -- --profile sva-emulation", () => {
  it("builds QEMU from Debian's source with the series, checks it with its qtests, and every suite passes on it", COLD_QEMU, async () => {
    const run = await cli("boot-test", "--profile", "sva-emulation");
    expect(run.exitCode, run.output).toBe(0);
    const r = json(run.runDir, "results.json");
    const stage = (name: string) => r.stages.find((s: Stage) => s.stage === name);
    for (const s of ["qemu-source", "qemu-series", "qemu-build", "qemu-check"]) expect(stage(s)?.status, s).toBe("pass");
    expect(r.qemu.source).toBe("debian qemu 1:10.2.2+ds-1");
    // QEMU's own checkpatch on every patch of the series: clean
    expect(r.qemu.checkpatch.length).toBeGreaterThan(5);
    expect(r.qemu.checkpatch.map((v: { verdict: string }) => v.verdict)).toEqual(r.qemu.checkpatch.map(() => "clean"));
    // QEMU's qtests for the series ran against the built binary, every point passed
    expect(r.qemu.qtests.length).toBeGreaterThan(0);
    for (const q of r.qemu.qtests) {
      expect(q.status, q.name).toBe("pass");
      expect(q.points.length, q.name).toBeGreaterThan(0);
    }
    const statuses = r.tests.map((t: { suite: string; name: string; status: string }) => `${t.suite}/${t.name}:${t.status}`);
    expect(statuses).toEqual(
      expect.arrayContaining([
        "sva-emulation/smmu-substreams:pass",
        "sva-emulation/pasid-capability:pass",
        "warpdrive/isolation:pass",
        "baseline/iommu-groups:pass",
      ]),
    );
    // warpdrive/faults injects allocation failures: it runs on debug kernels (profiles/debug.yaml) and skips
    // elsewhere, saying so; every other test passed
    expect(statuses.filter((s: string) => !s.endsWith(":pass"))).toEqual(statuses.includes("warpdrive/faults:skip") ? ["warpdrive/faults:skip"] : []);
    // the QEMU that ran is the one built (as kept in the artifact store), and the run folder says how it was built
    const argv = json(run.runDir, "qemu.argv.json") as string[];
    const manifest = json(run.runDir, "manifest.json");
    expect(argv[0]).toBe(manifest.artifacts.qemu.path);
    expect(manifest.artifacts.qemu.sha256).toBe(r.qemu.binarySha256);
    expect(argv).toEqual(expect.arrayContaining(["-global", "arm-smmuv3.ssidsize=20"]));
    expect(manifest.qemuBuild.binarySha256).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest.qemuSeries.baseCheck).toMatchObject({ matches: true });
    const reproduce = readFileSync(join(run.runDir, "reproduce.sh"), "utf8");
    expect(reproduce).toMatch(/apt-get .* source --only-source qemu=1:10\.2\.2\+ds-1/);
    expect(reproduce).toMatch(/\/configure '--cc=ccache gcc' --target-list=aarch64-softmmu /);
    expect(reproduce).toMatch(/^ninja -C \S+\/build -j\d+ qemu-system-aarch64 tests\/qtest\/smmuv3-ssid-test tests\/qtest\/virtio-crypto-test$/m);
    expect(reproduce).toContain("QTEST_QEMU_BINARY=");
    const junit = readFileSync(join(run.runDir, "junit.xml"), "utf8");
    expect(junit).toContain("qemu-check");
    const console = readFileSync(join(run.runDir, "console.log"), "utf8");
    expect(console).toMatch(/arm-smmu-v3 9050000\.smmuv3: ias 44-bit, oas 44-bit \(features 0x[0-9a-f]*[2367abef]\)/);
  });

  it("a second run builds and checks nothing: the QEMU stages cost about a second", async () => {
    const run = await cli("boot-test", "--profile", "sva-emulation", "--tests", "sva-emulation");
    expect(run.exitCode, run.output).toBe(0);
    const r = json(run.runDir, "results.json");
    const stage = (name: string) => r.stages.find((s: Stage) => s.stage === name);
    expect(stage("qemu-build").reason).toBe("up to date, ninja not run");
    expect(stage("qemu-check").reason).toMatch(/cached for this build/);
    expect(stage("qemu-series").reason).toMatch(/already applied/);
    const qemuMs = ["qemu-source", "qemu-series", "qemu-build", "qemu-check"].reduce((n, s) => n + r.timings[s], 0);
    expect(qemuMs).toBeLessThan(5000); // the target (<= 1 s) is measured by npm run bench, not here
    expect(existsSync(r.qemu.binary)).toBe(true);
  });

  it("on Debian's QEMU 7.2 (no substreams, no PASID) the sva-emulation suite fails, point by point", async () => {
    const run = await cli("boot-test", "--tests", "sva-emulation");
    expect(run.exitCode, run.output).toBe(1);
    const r = json(run.runDir, "results.json");
    const t = Object.fromEntries(r.tests.map((x: { name: string }) => [x.name, x]));
    expect(t["smmu-substreams"].status).toBe("fail");
    expect(t["smmu-substreams"].output).toContain("IDR1.SSIDSIZE = 0");
    expect(t["pasid-capability"].status).toBe("fail");
  });
});
