// A LAVA job's log as the harness's GuestRun: the serial console through the same triage as a local
// boot, each guest test judged the way the SSH runner judges it (its output, exit code, TAP, metrics,
// the kernel log between its kmsg markers, SMMU events against its `expects:`), and the phases as
// stages whose failure kind says whose fault it was (a kernel that died: regression; LAVA or the
// lab: infrastructure). LAVA's own case results are the fallback when a marker did not reach the console.
import { failed, passed, skipped, type StageResult } from "../../lib/stage.ts";
import { judge, type TestResult } from "../../stages/guest/judge.ts";
import type { GuestTest } from "../../stages/guest/suites.ts";
import { ConsoleTriage, consoleMessage, crashSignature, reportExcerpt, type Finding } from "../../stages/triage/triage.ts";
import type { GuestRun } from "../types.ts";
import { caseId } from "./job.ts";
import { testOutcomes, type LavaJobLog } from "./log.ts";

/** What a dead or dying kernel prints (the SSH runner's list): such a report in a test means the kernel failed. */
const DEATH_KINDS = new Set(["panic", "oops", "bug", "kasan", "kfence", "soft-lockup", "hard-lockup", "rcu-stall", "hung-task"]);
/** LAVA's error types that are the lab's or LAVA's fault, not the kernel's. */
const LAB_FAULTS = /^(Infrastructure|Bug|Configuration|LAVABug|InfrastructureError|ConfigurationError)$/i;

export interface JobEnd {
  /** How LAVA (or the lab) said the job ended, for reasons: "Complete", "Incomplete: <comment>". */
  health: string;
  /** The job itself could not run (lava-run failed to start, the lab refused it): infrastructure. */
  labFailure?: string;
}

export function guestRunFromLog(
  log: LavaJobLog,
  opts: { tests: GuestTest[]; testScale: number; argv: string[]; consoleLog: string; reproduce: string[]; end: JobEnd; startedAt: number },
): { run: GuestRun; stages: StageResult<unknown>[] } {
  const lines = log.console;
  const triage = new ConsoleTriage();
  for (const l of lines) triage.feed(l);
  triage.finish();
  const findings = triage.findings;
  const run: GuestRun = {
    executor: "lava",
    argv: opts.argv,
    consoleLog: opts.consoleLog,
    lines,
    findings,
    tests: [],
    timings: {},
    stages: [],
    reproduce: opts.reproduce,
  };
  const stages = run.stages;
  const lavaSays = [opts.end.labFailure, ...log.errors].filter(Boolean).join("; ") || opts.end.health;
  const labFault = Boolean(opts.end.labFailure) || LAB_FAULTS.test(log.errorType ?? "");

  // boot: the ready marker /init prints before LAVA's shell, or the kernel's word on why not.
  const ready = lines.findIndex((l) => l.includes("WDH-READY"));
  if (ready < 0) {
    const killer = findings.find((f) => f.severity === "fatal") ?? findings.find((f) => f.severity !== "info");
    const kernelSpoke = lines.some((l) => /Booting Linux|Linux version/.test(l));
    const tail = lines.slice(-25);
    stages.push(
      killer
        ? failed("boot", opts.startedAt, `kernel ${killer.severity === "fatal" ? "died" : "failed"} during boot: ${killer.title}`, {
            details: reportExcerpt(killer),
            signature: crashSignature(killer),
          })
        : kernelSpoke && !labFault
          ? failed("boot", opts.startedAt, `no ready marker on the console (LAVA: ${lavaSays})`, { details: tail })
          : failed("boot", opts.startedAt, `LAVA did not boot the kernel: ${lavaSays}`, { kind: "infrastructure", details: tail }),
    );
    run.tests = opts.tests.map((t) => notRun(t, `not run (${stages[0]!.reason})`));
    stages.push(skipped("shutdown", "the job ended at boot"));
    return { run, stages };
  }
  const readyAt = lastTimestamp(lines, ready);
  if (readyAt !== undefined) run.timings.bootToReadyMs = readyAt * 1000;
  stages.push(passed("boot", opts.startedAt, undefined, { reason: `ready on the console (line ${ready + 1})` }));

  // guest: each test from its markers, in order; after a kernel death or a hang the rest did not run.
  const lava = testOutcomes(log, opts.tests, caseId);
  const guestStarted = performance.now();
  let stop: string | undefined;
  for (const [i, test] of opts.tests.entries()) {
    if (stop) {
      run.tests.push(notRun(test, `not run (${stop})`));
      continue;
    }
    const r = judgeTest(test, lines, findings, opts.testScale, lava[i]!, lavaSays);
    run.tests.push(r);
    if (r.kernelDied) stop = `the kernel died in ${test.suite}/${test.name}`;
    else if (r.guestUnresponsive) stop = `the guest stopped answering in ${test.suite}/${test.name}`;
  }
  stages.push(guestStage(run.tests, guestStarted, log, labFault, lavaSays));

  // shutdown: LAVA powers the guest off; a job that failed after every test passed is LAVA's failure.
  const ok = log.job === "pass" && !opts.end.labFailure;
  const guestFailed = stages.some((s) => s.status === "fail");
  stages.push(
    ok || guestFailed
      ? passed("shutdown", performance.now(), undefined, { reason: ok ? "LAVA ended the job: complete" : `LAVA ended the job: ${lavaSays}` })
      : failed("shutdown", performance.now(), `LAVA ended the job incomplete after the tests: ${lavaSays}`, { kind: "infrastructure" }),
  );
  return { run, stages };
}

function guestStage(results: TestResult[], started: number, log: LavaJobLog, labFault: boolean, lavaSays: string): StageResult<unknown> {
  const failures = results.filter((r) => r.status === "fail" || r.status === "error");
  const killer = results.find((r) => r.kernelDied || r.guestUnresponsive);
  if (killer) {
    const report = killer.findings.find((f) => DEATH_KINDS.has(f.kind));
    return failed("guest", started, `${killer.suite}/${killer.name}: ${killer.reason}`, {
      signature: report ? crashSignature(report) : { type: "tests", failed: [`${killer.suite}/${killer.name}`] },
      details: [...(killer.kernelReport ?? []), ...failures.filter((f) => f !== killer).map((f) => `${f.suite}/${f.name}: ${f.reason}`)],
    });
  }
  if (failures.length > 0) {
    const named =
      failures.length === 1 ? `${failures[0]!.suite}/${failures[0]!.name}: ${failures[0]!.reason}` : failures.map((f) => `${f.suite}/${f.name}`).join(", ");
    return failed("guest", started, `${failures.length} of ${results.length} guest tests failed: ${named}`, {
      signature: { type: "tests", failed: failures.map((f) => `${f.suite}/${f.name}`) },
      details: failures.map((f) => `${f.suite}/${f.name}: ${f.reason}`),
    });
  }
  const notRunCount = results.filter((r) => r.status === "skip" && r.exitCode === null && r.reason?.startsWith("not run")).length;
  if (notRunCount > 0 && log.job !== "pass") {
    // The kernel gave no sign; LAVA did not run the tests (test shell never started, lab trouble).
    return failed("guest", started, `${notRunCount} of ${results.length} guest tests not run: ${lavaSays}`, {
      kind: labFault || notRunCount === results.length ? "infrastructure" : "regression",
    });
  }
  return passed("guest", started, undefined, { reason: `${results.length} guest tests passed` });
}

/** One test as the SSH runner would have judged it, from what the console shows between its markers. */
function judgeTest(
  test: GuestTest,
  lines: string[],
  findings: Finding[],
  testScale: number,
  lava: ReturnType<typeof testOutcomes>[number],
  lavaSays: string,
): TestResult {
  const seconds = Math.ceil(test.timeoutSeconds * testScale);
  const id = `${caseId(test.suite)}/${caseId(test.name)}`;
  const begin = lines.findIndex((l) => markerOf(l, "begin", id));
  if (begin < 0) {
    // No marker on the console: LAVA's own result, if it has one (a board whose console drops kmsg).
    if (lava.status !== "skip" || lava.points.length > 0) {
      const metrics = Object.keys(lava.metrics).length ? { metrics: lava.metrics } : {};
      return {
        ...base(test),
        status: lava.status,
        reason: `LAVA's lava-test-case result (no markers on the console)`,
        durationMs: 0,
        exitCode: null,
        output: "",
        kernelLog: [],
        findings: [],
        ...metrics,
      };
    }
    return notRun(test, `not run (${lavaSays})`);
  }
  const endAt = lines.findIndex((l, i) => i > begin && markerOf(l, "end", id));
  const to = endAt < 0 ? lines.length : endAt + 1;
  const inTest = findings.filter((f) => f.lineIndex >= begin && f.lineIndex < to);
  const kernelLog = lines.slice(begin + 1, endAt < 0 ? lines.length : endAt);
  if (endAt < 0) {
    const report = inTest.find((f) => DEATH_KINDS.has(f.kind));
    const common = { ...base(test), durationMs: 0, exitCode: null, output: "", kernelLog, findings: inTest };
    if (report && (report.severity === "fatal" || DEATH_KINDS.has(report.kind))) {
      return { ...common, status: "fail", reason: `the kernel died: ${report.title}`, kernelDied: true, kernelReport: reportExcerpt(report) };
    }
    const shown = inTest.find((f) => f.severity !== "info");
    return {
      ...common,
      status: "fail",
      reason: `did not finish (LAVA: ${lavaSays})${shown ? `; the console shows ${shown.kind}: ${shown.title}` : "; nothing on the console"}`,
      guestUnresponsive: true,
      ...(shown ? { kernelReport: reportExcerpt(shown) } : {}),
    };
  }
  const rc = Number(/ rc=(\d+)/.exec(lines[endAt]!)?.[1] ?? "NaN");
  const t0 = consoleMessage(lines[begin]!).timestamp;
  const t1 = consoleMessage(lines[endAt]!).timestamp;
  const judged = judge(
    test,
    {
      exitCode: Number.isFinite(rc) ? rc : null,
      stdout: outputAfter(lines, endAt),
      stderr: "",
      durationMs: t0 !== undefined && t1 !== undefined ? (t1 - t0) * 1000 : 0,
      timedOut: false,
    },
    kernelLog,
    inTest,
    seconds,
  );
  const report = inTest.find((f) => DEATH_KINDS.has(f.kind));
  return report && judged.status === "fail" ? { ...judged, kernelReport: reportExcerpt(report) } : judged;
}

/** `wdh: test-begin baseline/smmu-probed#62` (the runner's nonce is its shell's PID). */
function markerOf(line: string, which: "begin" | "end", id: string): boolean {
  const m = /wdh: test-(begin|end) (\S+?)#[0-9a-f]+\b/.exec(consoleMessage(line).text);
  return m !== null && m[1] === which && m[2] === id;
}

/** The runner prints the test's output indented by four spaces right after the end marker. */
function outputAfter(lines: string[], endAt: number): string {
  const out: string[] = [];
  for (let i = endAt + 1; i < lines.length; i++) {
    const l = lines[i]!;
    if (/wdh: test-begin /.test(l)) break;
    if (l.startsWith("    ")) out.push(l.slice(4));
    else if (out.length > 0 && !/^\[\s*\d+\.\d+\]/.test(l)) break; // a kernel line may interleave; anything else ends it
  }
  return out.length ? out.join("\n") + "\n" : "";
}

/** The printk time (seconds) of the last timestamped line at or before `index`. */
function lastTimestamp(lines: string[], index: number): number | undefined {
  for (let i = index; i >= 0; i--) {
    const t = consoleMessage(lines[i]!).timestamp;
    if (t !== undefined) return t;
  }
  return undefined;
}

function base(test: GuestTest) {
  return { suite: test.suite, name: test.name };
}

function notRun(test: GuestTest, reason: string): TestResult {
  return { ...base(test), status: "skip", reason, durationMs: 0, exitCode: null, output: "", kernelLog: [], findings: [] };
}
