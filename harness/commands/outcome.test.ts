// Every kind of outcome, from the stage that failed to the exit code, the verdict line, results.json and
// the bisect judgement: the real boot step and finishRun over a fake executor that refuses any job it
// was not told about, with deps that refuse every command.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { MachineDef } from "../config/schema.ts";
import type { Executor, GuestJob, GuestRun } from "../executors/types.ts";
import { HarnessBug, InterruptedError, UsageError } from "../lib/errors.ts";
import { createRunFolder } from "../lib/run-folder.ts";
import { failed, passed, skipped, type Deps, type StageResult } from "../lib/stage.ts";
import { classify } from "../stages/bisect/verdict.ts";
import type { TestResult } from "../stages/guest/judge.ts";
import type { GuestTest } from "../stages/guest/suites.ts";
import { ConsoleTriage, crashSignature } from "../stages/triage/triage.ts";
import { bootSteps } from "./boot-steps.ts";
import { outcomeOf as pointOf } from "./bisect-point.ts";
import type { Context, Step } from "./context.ts";
import { finishRun, summaryLines } from "./finish.ts";
import { runSteps } from "./run-steps.ts";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

const machine = { name: "fake-virt", executor: "fake", binary: "qemu-system-aarch64", append: [], devices: [] } as unknown as MachineDef;
const tests: GuestTest[] = [
  { suite: "baseline", name: "smmu-probed", guestPath: "/opt/wdh/baseline/smmu-probed.sh", command: ["./smmu-probed.sh"], timeoutSeconds: 10 },
  { suite: "baseline", name: "kernel-log-clean", guestPath: "/opt/wdh/baseline/kernel-log-clean.sh", command: ["./kernel-log-clean.sh"], timeoutSeconds: 10 },
];

/** A console as lines, triaged the way every executor's console is. */
function console_(lines: string[]) {
  const triage = new ConsoleTriage();
  lines.forEach((l) => triage.feed(l));
  triage.finish();
  return { lines, findings: triage.findings };
}

const test = (name: string, status: TestResult["status"], extra: Partial<TestResult> = {}): TestResult => ({
  suite: "baseline",
  name,
  status,
  durationMs: 10,
  exitCode: status === "pass" ? 0 : 1,
  output: "",
  kernelLog: [],
  findings: [],
  ...extra,
});

/** What the fake executor was told to do: the one job it accepts, and the phases it reports. */
interface Script {
  console: string[];
  stages: StageResult<unknown>[];
  tests: TestResult[];
  /** Aborts the run's signal while "running" (Ctrl-C during the guest tests). */
  interrupt?: AbortController;
}

function fakeExecutor(script: Script): Executor {
  return {
    name: "fake",
    concurrent: false,
    requiredTools: () => [],
    run: async (job: GuestJob) => {
      // Refuse anything it was not told: another machine, other tests, other kernel parameters.
      if (job.machine.name !== "fake-virt") throw new Error(`fake executor: not told about machine ${job.machine.name}`);
      if (JSON.stringify(job.tests) !== JSON.stringify(tests)) throw new Error(`fake executor: not told about tests ${job.tests.map((t) => t.name)}`);
      if (job.kernel.image !== "/store/Image" || job.initramfs !== "/store/initramfs") throw new Error("fake executor: not told about these artifacts");
      if (JSON.stringify(job.append) !== JSON.stringify(["virtio_crypto.uacce_devices=0000:00:03.0"]))
        throw new Error(`fake executor: not told about ${job.append}`);
      script.interrupt?.abort();
      const { lines, findings } = console_(script.console);
      const output: GuestRun = {
        executor: "fake",
        argv: ["fake-qemu", "-kernel", job.kernel.image],
        consoleLog: job.runDir.file("console.log"),
        lines,
        findings,
        tests: script.tests,
        timings: { bootToReadyMs: 1500 },
        stages: script.stages,
        reproduce: [],
      };
      const bad = script.stages.find((s) => s.status === "fail");
      return { ...(bad ?? passed("guest", 0, null)), output } as StageResult<GuestRun> & { output: GuestRun };
    },
  };
}

const refuseEverything = (signal: AbortSignal): Deps =>
  ({
    exec: (file: string, args: readonly string[] = []) => Promise.reject(new Error(`no command expected: ${file} ${args.join(" ")}`)),
    signal,
    progress: () => {},
  }) as unknown as Deps;

/** A context as the build left it (artifacts in the store), ready for the boot step. */
function builtContext(script: Script): Context {
  const root = mkdtempSync(join(tmpdir(), "wdh-outcome-"));
  dirs.push(root);
  const signal = (script.interrupt ?? new AbortController()).signal;
  return {
    job: {
      machine,
      append: ["virtio_crypto.uacce_devices=0000:00:03.0"],
      profile: { timeouts: { boot: 120, ssh: 30, testScale: 1 }, toolchain: {} },
      profileFile: "p.yaml",
    },
    run: createRunFolder("boot-test", root),
    deps: refuseEverything(signal),
    build: { image: "/build/Image", vmlinux: "", treeDir: "", kernelRelease: "6.12.0", upToDate: true },
    kernelImage: "/store/Image",
    rootfs: { initrd: "/store/initramfs", tests },
    executors: { fake: fakeExecutor(script) },
  } as unknown as Context;
}

const guestStep = bootSteps.find((s) => s.id === "boot")!;

async function runThrough(ctx: Context, steps: Step[] = [guestStep]) {
  await runSteps(steps, ctx, "silent").catch(() => {});
  const verdict = finishRun(ctx, "boot-test");
  const results = JSON.parse(readFileSync(join(ctx.run.dir, "results.json"), "utf8"));
  const manifest = JSON.parse(readFileSync(join(ctx.run.dir, "manifest.json"), "utf8"));
  const summary = summaryLines(ctx, verdict);
  let point: ReturnType<typeof pointOf> | Error;
  try {
    point = pointOf(ctx, 1);
  } catch (e) {
    point = e as Error;
  }
  return { verdict, results, manifest, summary, point };
}

const ok = (stage: StageResult<unknown>["stage"]) => passed(stage, 0, undefined);
const BOOT = ["[    0.000000] Booting Linux on physical CPU 0x0000000000 [0x411fd070]", "[    0.000000] Linux version 6.12.0 (wdh) #1 SMP"];
const WARNING = [
  "[    1.100000] ------------[ cut here ]------------",
  "[    1.100001] WARNING: CPU: 0 PID: 1 at drivers/crypto/virtio/virtio_crypto_core.c:123 virtcrypto_probe+0x10/0x20",
  "[    1.100002] Modules linked in:",
  "[    1.100003] Call trace:",
  "[    1.100004]  virtcrypto_probe+0x10/0x20",
  "[    1.100005]  virtio_dev_probe+0x1c0/0x2a0",
  "[    1.100006] ---[ end trace 0000000000000000 ]---",
];
const STALL = [
  "[   21.000000] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:",
  "[   21.000001] rcu: 	1-...0: (1 GPs behind) idle=a4c/1/0x4000000000000000 softirq=70/70 fqs=2625",
  "[   21.000002] rcu: 	(detected by 0, t=5255 jiffies, g=-1007, q=5 ncpus=2)",
  "[   21.000003] Task dump for CPU 1:",
  "[   21.000004] task:swapper/0       state:R  running task     stack:0     pid:1     tgid:1     ppid:0      flags:0x0000000a",
  "[   21.000005] Call trace:",
  "[   21.000006]  spin_probe+0x20/0x40",
  "[   21.000007]  virtcrypto_probe+0x30/0x200",
  "[   21.000008] rest of the console",
];

describe("one outcome, from the stage that failed to the exit code", () => {
  it("pass: exit 0, PASS, results.json says pass, bisect calls the point good", async () => {
    const ctx = builtContext({ console: BOOT, stages: [ok("boot"), ok("ssh"), ok("guest"), ok("shutdown")], tests: tests.map((t) => test(t.name, "pass")) });
    const r = await runThrough(ctx);
    expect(r.verdict.exitCode).toBe(0);
    expect(r.summary.at(-2)).toBe("PASS (exit 0)");
    expect(r.results).toMatchObject({ status: "pass", exitCode: 0, outcome: { kind: "pass" }, timings: { bootToReadyMs: 1500 } });
    expect(r.results.stages.map((s: { stage: string }) => s.stage)).toEqual(["boot", "ssh", "guest", "shutdown"]);
    expect(r.manifest).toMatchObject({ exitCode: 0, executor: "fake" });
    expect(classify(r.point as never, { kind: "boot" }).verdict).toBe("good");
  });

  it("regression, a kernel that stalls during boot: exit 1, the stall leads, its signature is the crash, bisect hunting boot calls it bad", async () => {
    const { findings } = console_([...BOOT, ...STALL]);
    const stall = findings.find((f) => f.kind === "rcu-stall")!;
    const boot = failed("boot", 0, `kernel hung during boot: ${stall.title}`, { signature: crashSignature(stall), details: stall.lines });
    const ctx = builtContext({
      console: [...BOOT, ...STALL],
      stages: [boot, skipped("shutdown", "QEMU is not running")],
      tests: tests.map((t) => test(t.name, "skip")),
    });
    const r = await runThrough(ctx);
    expect(r.verdict.exitCode).toBe(1);
    expect(r.summary.at(-2 - r.verdict.details.length)).toMatch(/^FAIL \(exit 1\): boot: kernel hung during boot: rcu/);
    expect(r.results.outcome).toMatchObject({
      kind: "regression",
      stage: "boot",
      signature: { type: "crash", kind: "rcu-stall", frames: expect.arrayContaining(["spin_probe"]) },
    });
    expect(r.results.consoleFindings.map((f: { kind: string }) => f.kind)).toContain("rcu-stall");
    expect(r.point).toMatchObject({ kind: "fail", stage: "boot" });
    expect(classify(r.point as never, { kind: "boot" }).verdict).toBe("bad");
    expect(classify(r.point as never, { kind: "test" }).verdict).toBe("skip");
  });

  it("regression, a WARNING at boot that a test noticed: the verdict leads with the kernel's report, then the test", async () => {
    const stages = [
      ok("boot"),
      ok("ssh"),
      failed("guest", 0, "1 of 2 guest tests failed: baseline/kernel-log-clean: dmesg has WARNING", {
        signature: { type: "tests" as const, failed: ["baseline/kernel-log-clean"] },
      }),
      ok("shutdown"),
    ];
    const ctx = builtContext({
      console: [...BOOT, ...WARNING],
      stages,
      tests: [test("smmu-probed", "pass"), test("kernel-log-clean", "fail", { reason: "dmesg has WARNING" })],
    });
    const r = await runThrough(ctx);
    expect(r.verdict.exitCode).toBe(1);
    expect(r.verdict.reason).toBe(
      "guest: the kernel logged WARNING in virtcrypto_probe (drivers/crypto/virtio/virtio_crypto_core.c:123) during boot (console line 4); failed: baseline/kernel-log-clean",
    );
    expect(r.results.outcome).toMatchObject({
      kind: "regression",
      stage: "guest",
      signature: { type: "crash", kind: "warning" },
      failedTests: ["baseline/kernel-log-clean"],
    });
    // a test hunt compares the failing tests, whatever the kernel said
    expect(r.point).toMatchObject({ kind: "fail", stage: "test", signature: "test: baseline/kernel-log-clean", failedTests: ["baseline/kernel-log-clean"] });
    expect(classify(r.point as never, { kind: "test", test: "baseline/kernel-log-clean" }).verdict).toBe("bad");
  });

  it("configuration, a Kconfig option that cannot be had: exit 2, and the boot is skipped", async () => {
    const kconfig: Step = {
      id: "kconfig",
      title: "Kconfig",
      run: async () =>
        failed("kconfig", 0, "1 Kconfig option(s) did not survive: CRYPTO_DEV_VIRTIO", {
          kind: "configuration",
          signature: { type: "kconfig", options: ["CRYPTO_DEV_VIRTIO"] },
        }),
    };
    const ctx = builtContext({ console: [], stages: [], tests: [] });
    const r = await runThrough(ctx, [kconfig, guestStep]);
    expect(r.verdict.exitCode).toBe(2);
    expect(r.results.outcome).toMatchObject({ kind: "configuration", stage: "kconfig", signature: { type: "kconfig", options: ["CRYPTO_DEV_VIRTIO"] } });
    expect(r.results.stages.map((s: { stage: string }) => s.stage)).toEqual(["kconfig"]);
    expect(r.point).toMatchObject({ kind: "fail", stage: "kconfig", signature: "kconfig: CRYPTO_DEV_VIRTIO" });
    expect(classify(r.point as never, { kind: "boot" }).verdict).toBe("skip");
  });

  it("configuration, a usage error thrown in a stage: exit 2; bisection does not judge it, it stops", async () => {
    const bad: Step = {
      id: "series",
      title: "Series",
      run: async () => {
        throw new UsageError("series x was written against v4.18, not this tree");
      },
    };
    const ctx = builtContext({ console: [], stages: [], tests: [] });
    const r = await runThrough(ctx, [bad, guestStep]);
    expect(r.verdict.exitCode).toBe(2);
    expect(r.results.outcome).toMatchObject({ kind: "configuration", stage: "series" });
    expect(r.point).toBeInstanceOf(UsageError);
  });

  it("infrastructure, SSH that never came up with nothing from the kernel: exit 3, bisect skips the point", async () => {
    const ssh = failed("ssh", 0, "SSH to 127.0.0.1:2222 failed: connect ECONNREFUSED", { kind: "infrastructure" });
    const ctx = builtContext({ console: BOOT, stages: [ok("boot"), ssh, ok("shutdown")], tests: tests.map((t) => test(t.name, "skip")) });
    const r = await runThrough(ctx);
    expect(r.verdict.exitCode).toBe(3);
    expect(r.results).toMatchObject({ exitCode: 3, outcome: { kind: "infrastructure", stage: "ssh" } });
    expect(r.point).toMatchObject({ kind: "infra" });
    expect(classify(r.point as never, { kind: "boot" }).verdict).toBe("skip");
  });

  it("bug, a TypeError thrown in a stage: exit 4 with its stack; bisection stops on it instead of skipping the point", async () => {
    const buggy: Step = { id: "kconfig", title: "Kconfig", run: async () => void (undefined as unknown as { fragments: string[] }).fragments.length };
    const ctx = builtContext({ console: [], stages: [], tests: [] });
    const r = await runThrough(ctx, [buggy, guestStep]);
    expect(r.verdict.exitCode).toBe(4);
    expect(r.results).toMatchObject({ exitCode: 4, outcome: { kind: "bug", stage: "kconfig" } });
    expect(r.verdict.reason).toMatch(/^a bug in the harness \(kconfig\): TypeError: Cannot read properties of undefined/);
    // the stack, down to this file, is in the details the CLI prints under the verdict
    expect(r.verdict.details.join("\n")).toMatch(/outcome\.test\.ts:\d+/);
    expect(r.summary.join("\n")).toMatch(/outcome\.test\.ts:\d+/);
    expect(r.point).toBeInstanceOf(HarnessBug);
    expect((r.point as HarnessBug).exitCode).toBe(4);
  });

  it("interrupted, Ctrl-C during the guest tests: 130 in results.json and the manifest, whatever the phase said; bisection stops", async () => {
    const interrupt = new AbortController();
    const guest = failed("guest", 0, "interrupted during baseline/kernel-log-clean", { kind: "interrupted" });
    const ctx = builtContext({
      console: BOOT,
      stages: [ok("boot"), ok("ssh"), guest, ok("shutdown")],
      tests: [test("smmu-probed", "pass"), test("kernel-log-clean", "error")],
      interrupt,
    });
    const r = await runThrough(ctx);
    expect(r.verdict.exitCode).toBe(130);
    expect(r.results).toMatchObject({ exitCode: 130, status: "fail", outcome: { kind: "interrupted", stage: "guest" } });
    expect(r.manifest.exitCode).toBe(130);
    expect(r.point).toBeInstanceOf(InterruptedError);
  });

  it("interrupted in any stage (a thrown abort while building): 130", async () => {
    const interrupt = new AbortController();
    const build: Step = {
      id: "build",
      title: "Build",
      run: async () => {
        interrupt.abort();
        throw new InterruptedError("make was killed");
      },
    };
    const ctx = builtContext({ console: [], stages: [], tests: [], interrupt });
    const r = await runThrough(ctx, [build, guestStep]);
    expect(r.verdict.exitCode).toBe(130);
    expect(r.results.outcome).toMatchObject({ kind: "interrupted", stage: "build" });
  });

  it("the fake executor refuses a job it was not told about (a plain Error: a bug, exit 4)", async () => {
    const ctx = builtContext({ console: BOOT, stages: [ok("boot")], tests: [] });
    (ctx.job as { append: string[] }).append = ["something=else"];
    const r = await runThrough(ctx);
    expect(r.verdict.exitCode).toBe(4);
    expect(r.verdict.reason).toMatch(/not told about something=else/);
  });
});
