// A kernel that dies or hangs under a guest test, end to end on the real kernel (LKDTM provokes it): the
// test that was running is failed with the kernel's report as its reason, later tests are not run, the
// run is a regression (exit 1), never infrastructure, and a bisection hunting that test names the patch.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../harness/lib/paths.ts";
import { BUILDS, cli, COLD_KERNEL, runJson } from "./cli.ts";

const fixture = (...p: string[]) => join(repoRoot, "test/fixtures", ...p);
const results = (runDir: string) => runJson(runDir, "results.json");
type T = { suite: string; name: string; status: string; reason?: string; findings: { kind: string; title: string }[]; kernelReport?: string[] };

describe("a kernel that dies during a guest test", () => {
  it("a panic: that test fails with the panic as its reason, the next is not run, exit 1", COLD_KERNEL, async () => {
    const run = await cli("boot-test", "--tests", fixture("guest-tests/kernel-dies"));
    expect(run.exitCode, run.output).toBe(1);
    expect(run.output).toMatch(/guest: kernel-dies\/panics: the kernel died: Kernel panic - not syncing: dumptest/);
    const r = results(run.runDir);
    const byName = Object.fromEntries(r.tests.map((t: T) => [t.name, t]));
    expect(byName.before.status).toBe("pass");
    expect(byName.panics).toMatchObject({ status: "fail", reason: "the kernel died: Kernel panic - not syncing: dumptest" });
    expect(byName.panics.findings.map((f: T["findings"][0]) => f.kind)).toContain("panic");
    expect(byName.panics.kernelReport.join("\n")).toMatch(/lkdtm/);
    expect(byName.after).toMatchObject({ status: "skip", reason: "not run (the kernel died in kernel-dies/panics)" });
    // the stack of the report, decoded to file:line by the tree's decode_stacktrace.sh
    expect(readFileSync(join(run.runDir, "decoded-stack.txt"), "utf8")).toMatch(/lkdtm\S* \(drivers\/misc\/lkdtm\/\S+\.c:\d+/);
    expect(r.stages.find((s: { stage: string }) => s.stage === "guest").status).toBe("fail");
  });

  it("an oops without oops=panic: that test fails with the oops, the kernel lives on and the next test runs", async () => {
    const run = await cli("boot-test", "--machine", fixture("machines/virt-smmuv3-oops-survives.yaml"), "--tests", fixture("guest-tests/kernel-oops"));
    expect(run.exitCode, run.output).toBe(1);
    const byName = Object.fromEntries(results(run.runDir).tests.map((t: T) => [t.name, t]));
    expect(byName.oopses.status).toBe("fail");
    expect(byName.oopses.reason).toMatch(/the kernel logged .*(NULL pointer|Oops)/);
    expect(byName.oopses.kernelReport.join("\n")).toMatch(/lkdtm/);
    expect(byName.after.status).toBe("pass");
  });

  it("a test that leaves a task blocked in the kernel, console silent: the reason says where it waits", async () => {
    const run = await cli("boot-test", "--tests", fixture("guest-tests/kernel-blocks"));
    expect(run.exitCode, run.output).toBe(1);
    const t = results(run.runDir).tests[0] as T;
    expect(t.status).toBe("fail");
    // the vfork() parent, in D state, named with its first frame past the waiting ones
    expect(t.reason).toMatch(/^timed out after \d+ s; blocked in the kernel: blocks \(pid \d+\) in \S+/);
    // its stack, decoded: the vfork wait is inlined into kernel_clone
    expect(t.kernelReport!.join("\n")).toMatch(/kernel_clone \(kernel\/fork\.c:\d+/);
  });

  it("a test that hangs in the kernel: its timeout fires and the console's stall or lockup report is the reason", async () => {
    const run = await cli("boot-test", "--tests", fixture("guest-tests/kernel-hangs"));
    expect(run.exitCode, run.output).toBe(1);
    const t = results(run.runDir).tests[0] as T;
    expect(t.status).toBe("fail");
    // Under TCG the RCU stall detector (21 s) usually speaks before the soft lockup detector (20 s + the
    // watchdog's period); either is the kernel's own report of the hang.
    expect(t.reason).toMatch(/^timed out after 30 s; the console shows (rcu-stall|soft-lockup): /);
    expect(t.findings.map((f) => f.kind)).toEqual(expect.arrayContaining([expect.stringMatching(/^(rcu-stall|soft-lockup)$/)]));
    expect(t.kernelReport!.join("\n")).toContain("lkdtm_SOFTLOCKUP");
  });

  it("bisect hunting the test the kernel died in names the patch that made it die", BUILDS, async () => {
    const series = fixture("series/bisect-test-crash");
    const failing = await cli("boot-test", "--series", series, "--tests", "baseline", "--quiet");
    expect(failing.exitCode, failing.output).toBe(1);
    const died = results(failing.runDir).tests.find((t: T) => t.name === "aes-cbc-kat");
    expect(died.reason).toMatch(/^the kernel died: /);
    const run = await cli("bisect", "--series", series, "--tests", "baseline", "--hunt", "test:baseline/aes-cbc-kat", "--quiet");
    expect(run.exitCode, run.output).toBe(0);
    const r = runJson(run.runDir, "results.json");
    expect(r.firstBad.subject).toBe("crypto: virtio - store through a NULL pointer on encrypt (test fixture)");
    expect(r.steps.every((s: { verdict: string }) => s.verdict !== "skip")).toBe(true);
    expect(existsSync(join(run.runDir, "bisect.log"))).toBe(true);
  });
});
