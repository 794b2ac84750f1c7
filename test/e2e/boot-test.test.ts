// End to end, on the real parts: Debian's 6.12 source, the cross compiler, QEMU (TCG) with an SMMUv3 and
// virtio accelerators, dropbear in the guest. The default job first (a cold build on a clean machine),
// then each way a run can go wrong, each with its message and its documented exit code.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../harness/lib/paths.ts";
import { cli, type CliRun, COLD_KERNEL, runJson } from "./cli.ts";

const fixture = (...p: string[]) => join(repoRoot, "test/fixtures", ...p);
const results = (run: CliRun) => runJson(run.runDir, "results.json");

describe("npm run boot-test on the default profile", () => {
  it("applies, builds, boots behind the SMMUv3 and passes the baseline suite over SSH", COLD_KERNEL, async () => {
    const run = await cli("boot-test");
    expect(run.exitCode, run.output).toBe(0);
    const r = results(run);
    expect(r.status).toBe("pass");
    const statuses = r.tests.map((t: { suite: string; name: string; status: string }) => `${t.suite}/${t.name}:${t.status}`);
    expect(statuses).toEqual(
      expect.arrayContaining(["baseline/smmu-probed:pass", "baseline/iommu-groups:pass", "baseline/aes-cbc-kat:pass", "baseline/kernel-log-clean:pass"]),
    );
    // the series: checkpatch clean patch by patch, each patch's provenance and hash recorded, base checked
    // one clean verdict per patch of the default series, whatever its length
    expect(r.checkpatch.length).toBeGreaterThanOrEqual(5);
    expect(r.checkpatch.map((v: { verdict: string }) => v.verdict)).toEqual(r.checkpatch.map(() => "clean"));
    expect(r.patches[0]).toMatchObject({ provenance: { kind: "file" }, sha256: expect.stringMatching(/^[0-9a-f]{64}$/), attestations: [] });
    // every test of the default profile's suites ran and passed (none skipped)
    // warpdrive/faults injects allocation failures: it runs on debug kernels (profiles/debug.yaml) and skips
    // elsewhere, saying so; every other test passed
    expect(statuses.filter((s: string) => !s.endsWith(":pass"))).toEqual(statuses.includes("warpdrive/faults:skip") ? ["warpdrive/faults:skip"] : []);
    for (const f of ["console.log", "build.log", "results.json", "junit.xml", "qemu.argv.json", "reproduce.sh", "manifest.json", "report.html"]) {
      expect(existsSync(join(run.runDir, f)), f).toBe(true);
    }
    const console = readFileSync(join(run.runDir, "console.log"), "utf8");
    expect(console).toMatch(/arm-smmu-v3 9050000\.smmuv3: ias \d+-bit/);
    const manifest = runJson(run.runDir, "manifest.json");
    expect(manifest.kernel.release).toMatch(/^6\.12\./);
    expect(manifest.exitCode).toBe(0);
    expect(manifest.baseCheck).toMatchObject({ matches: true, stated: "debian linux-source-6.12" });
  });

  it("boots again without rebuilding when nothing changed", async () => {
    const run = await cli("boot-test");
    expect(run.exitCode, run.output).toBe(0);
    const build = results(run).stages.find((s: { stage: string }) => s.stage === "build");
    expect(build.reason).toBe("up to date, make not run");
  });
});

describe("failures give a clear message and the documented exit code", () => {
  it("a guest test that fails: exit 1, naming the test and its failing point", async () => {
    const run = await cli("boot-test", "--tests", fixture("guest-tests/failing"));
    expect(run.exitCode, run.output).toBe(1);
    expect(run.output).toContain("failing/fails");
    const t = results(run).tests.find((x: { name: string }) => x.name === "fails");
    expect(t.status).toBe("fail");
    expect(t.reason).toMatch(/deliberately failing point/);
  });

  it("a kernel panic at boot: exit 1 at once, with the panic and the oops", COLD_KERNEL, async () => {
    const run = await cli("boot-test", "--series", fixture("series/panic-at-boot"));
    expect(run.exitCode, run.output).toBe(1);
    expect(run.output).toMatch(/boot: kernel died during boot: .*(NULL pointer|Oops|panic)/);
    expect(run.output).toContain("virtcrypto_probe");
    // the failed run's page leads with the kernel's report
    expect(readFileSync(join(run.runDir, "report.html"), "utf8")).toMatch(/FAIL[\s\S]*virtcrypto_probe/);
    // ended by the console, not by the 120 s boot timeout: the boot stage itself, whatever the
    // (re)configure and rebuild before it cost on a loaded machine
    const boot = results(run).stages.find((st: { stage: string }) => st.stage === "boot");
    expect(boot?.durationMs).toBeLessThan(60_000);
  });

  it("a compile error: exit 1 with file:line of the first error", COLD_KERNEL, async () => {
    const run = await cli("build-kernel", "--series", fixture("series/compile-error"));
    expect(run.exitCode, run.output).toBe(1);
    expect(run.output).toMatch(/build failed: .*drivers\/crypto\/virtio\/virtio_crypto_core\.c:\d+:\d+: 'fixture_undeclared_counter' undeclared/);
  });

  it("a patch that does not apply: exit 1 naming the patch, the file and the hunk", async () => {
    const run = await cli("build-kernel", "--series", fixture("series/demo-conflict"));
    expect(run.exitCode, run.output).toBe(1);
    expect(run.output).toMatch(/series: patch 1\/1 0001-demo-four-queues-and-a-goodbye\.patch does not apply: drivers\/demo\/demo\.c/);
  });

  it("a Kconfig option that does not survive: exit 2 naming it", async () => {
    const run = await cli("build-kernel", "--fragments", `base,${fixture("kconfig/smmu-without-iommu.config")}`);
    expect(run.exitCode, run.output).toBe(2);
    expect(run.output).toContain("CONFIG_ARM_SMMU_V3: smmu-without-iommu.config:2 asked for =y, .config has it not set");
  });

  it("Ctrl-C: exit 130, QEMU killed and reaped", async () => {
    const child = execa(process.execPath, ["--import", "tsx", "harness/cli/main.ts", "boot-test"], {
      cwd: repoRoot,
      reject: false,
      all: true,
      env: { CI: "1" },
    });
    let output = "";
    // QEMU is the harness's own child: found by its parent pid in /proc (no pgrep, no command-line guess)
    let qemu: number[] = [];
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        qemu = childrenNamed(child.pid!, "qemu-system-aar");
        if (qemu.length === 0 || !/✔ Rootfs/.test(output)) return;
        clearInterval(poll);
        setTimeout(resolve, 2000);
      }, 250);
      child.all!.on("data", (d: Buffer) => void (output += d.toString()));
      // a run that ends before booting fails below
      void child.finally(() => {
        clearInterval(poll);
        resolve();
      });
    });
    expect(qemu, `QEMU was running before Ctrl-C\n${output}`).toHaveLength(1);
    child.kill("SIGINT");
    const r = await child;
    expect(r.exitCode, r.all).toBe(130);
    // killed and reaped: no process with that pid is left, not even a zombie
    expect(existsSync(`/proc/${qemu[0]}`)).toBe(false);
  });

  it("bad usage: exit 2", async () => {
    expect((await cli("boot-test", "--machine", "no-such-machine")).exitCode).toBe(2);
    expect((await cli("no-such-command")).exitCode).toBe(2);
  });
});

/** The pids of a process's children whose command name (as /proc/<pid>/stat gives it, 15 characters) is name. */
function childrenNamed(parent: number, name: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc").filter((e) => /^\d+$/.test(e))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const m = /^\d+ \((.*)\) \S+ (\d+)/.exec(stat);
      if (m && m[1] === name && Number(m[2]) === parent) found.push(Number(entry));
    } catch {
      // gone between the listing and the read
    }
  }
  return found;
}
