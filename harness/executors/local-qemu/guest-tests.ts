// The local executor's guest stage: run each guest test over the one SSH session, with its own timeout, and keep the kernel
// log written while it ran (between markers the test runner writes to /dev/kmsg). A test that makes the
// kernel log an oops or a WARNING fails, whatever it printed; a kernel that dies ends the stage at once.
import { randomBytes } from "node:crypto";
import type { CommandResult, SshSession } from "../../lib/ssh.ts";
import { failed, passed, type Deps, type StageResult } from "../../lib/stage.ts";
import { InfraError, InterruptedError, isAbort } from "../../lib/errors.ts";
import { base, judge, skippedTest, type TestResult } from "../../stages/guest/judge.ts";
import type { GuestTest } from "../../stages/guest/suites.ts";
import { BLOCKED_TASKS_COMMAND, blockedSummary, parseBlockedTasks, type BlockedTask } from "../../stages/triage/blocked.ts";
import { crashSignature, isFailure, reportExcerpt, type Finding } from "../../stages/triage/triage.ts";
import type { GuestEnd, LiveGuest } from "./boot.ts";

export interface GuestRunInput {
  guest: LiveGuest;
  session: SshSession;
  tests: GuestTest[];
  testScale: number;
}

/** Time for the end marker to reach the console after the test returned. */
const MARKER_WAIT_MS = 3000;

export async function runGuestTests(input: GuestRunInput, deps: Deps): Promise<StageResult<TestResult[]>> {
  const started = performance.now();
  const results: TestResult[] = [];
  let died: string | undefined;
  // Interrupted, or the machinery failed under a test: the tests so far are kept, as values.
  let stopped: { kind: "interrupted" | "infrastructure"; reason: string; details: string[] } | undefined;
  for (const test of input.tests) {
    if (died || stopped) {
      results.push(skippedTest(test, `not run (${died ?? stopped!.reason})`));
      continue;
    }
    deps.progress(`${test.suite}/${test.name}`);
    let result: TestResult;
    try {
      result = await runOne(test, input, deps);
    } catch (e) {
      if (deps.signal.aborted || isAbort(e)) stopped = { kind: "interrupted", reason: `interrupted during ${test.suite}/${test.name}`, details: [] };
      else if (e instanceof InfraError) stopped = { kind: "infrastructure", reason: e.message, details: e.details };
      else throw e;
      results.push({ ...skippedTest(test, stopped.reason), status: "error" });
      continue;
    }
    results.push(result);
    if (result.kernelDied) died = `the kernel died in ${test.suite}/${test.name}`;
    else if (result.guestUnresponsive) died = `the guest stopped answering in ${test.suite}/${test.name}`;
  }
  if (stopped) return failed("guest", started, stopped.reason, { kind: stopped.kind, output: results, details: stopped.details });
  const failures = results.filter((r) => r.status === "fail" || r.status === "error");
  const killer = results.find((r) => r.kernelDied || r.guestUnresponsive);
  if (killer) {
    const report = killer.findings.find((f) => DEATH_KINDS.has(f.kind));
    return failed("guest", started, `${killer.suite}/${killer.name}: ${killer.reason}`, {
      output: results,
      signature: report ? crashSignature(report) : { type: "tests", failed: [`${killer.suite}/${killer.name}`] },
      details: [...(killer.kernelReport ?? []), ...failures.filter((f) => f !== killer).map((f) => `${f.suite}/${f.name}: ${f.reason}`)],
    });
  }
  if (failures.length > 0) {
    // One failure: its reason in the headline, so the verdict line says what went wrong.
    const named =
      failures.length === 1 ? `${failures[0]!.suite}/${failures[0]!.name}: ${failures[0]!.reason}` : failures.map((f) => `${f.suite}/${f.name}`).join(", ");
    return failed("guest", started, `${failures.length} of ${results.length} guest tests failed: ${named}`, {
      output: results,
      signature: { type: "tests", failed: failures.map((f) => `${f.suite}/${f.name}`) },
      details: failures.map((f) => `${f.suite}/${f.name}: ${f.reason}`),
    });
  }
  return passed("guest", started, results, { reason: `${results.length} guest tests passed` });
}

/** How long to wait, once SSH dropped or the command died, for the console to say why. */
const DEATH_GRACE_MS = 5000;
/** A command ended without an exit code: how long the session may take to notice its connection went. */
const LOST_NOTICE_MS = 500;
/** After a timeout: how long a trivial command may take before the guest counts as stopped. */
const ALIVE_CHECK_MS = 5000;

type Outcome = CommandResult | GuestEnd | { lost: unknown };

async function runOne(test: GuestTest, input: GuestRunInput, deps: Deps): Promise<TestResult> {
  const { guest, session } = input;
  const id = `${test.suite}/${test.name}#${randomBytes(3).toString("hex")}`;
  const begin = `wdh: test-begin ${id}`;
  const end = `wdh: test-end ${id}`;
  const seconds = Math.ceil(test.timeoutSeconds * input.testScale);
  const dir = test.guestPath.slice(0, test.guestPath.lastIndexOf("/"));
  // busybox timeout kills the test in the guest; the harness's own timer (a little later) covers a guest
  // that stopped answering altogether.
  const command = [
    `echo '${begin}' > /dev/kmsg`,
    `cd ${dir} && timeout -s KILL ${seconds} ${test.command.join(" ")}`,
    `rc=$?; echo "${end} rc=$rc" > /dev/kmsg; exit $rc`,
  ].join("; ");

  const from = guest.lines.length;
  const endSeen = guest.waitForLine((l) => l.includes(end), (seconds + 10) * 1000 + MARKER_WAIT_MS);
  const ran: Outcome = await Promise.race([
    session.run(command, (seconds + 5) * 1000, deps.signal).catch((e: unknown) => ({ lost: e })),
    guest.ended.then((e) => e),
  ]);
  // A command that ended without an exit code because the connection itself went away is SSH lost, not a
  // test that printed nothing (the session notices the close as the channel does, or just after it).
  const noExitCode = "timedOut" in ran && ran.exitCode === null && !ran.timedOut;
  const lostFor = noExitCode ? await Promise.race([session.closed, delay(LOST_NOTICE_MS).then(() => undefined)]) : undefined;
  const outcome: Outcome = lostFor !== undefined ? { lost: new Error(lostFor) } : ran;
  if (deps.signal.aborted) throw new InterruptedError(`interrupted during ${test.suite}/${test.name}`);

  // SSH dropped, QEMU ended, or the command went without an exit code: the kernel may have died under
  // the test. The console decides; QEMU exits on a panic (-no-reboot), so the report is usually complete.
  const gone = "lost" in outcome || "kind" in outcome;
  if (gone || (outcome.exitCode === null && !outcome.timedOut)) {
    const report = await kernelReportSince(guest, from, DEATH_GRACE_MS);
    const ended = await settled(guest.ended, 0);
    if (report && (report.severity === "fatal" || gone || ended)) {
      return died(
        test,
        report,
        guest.lines.slice(from).filter((l) => !l.includes(begin)),
        findingsFrom(guest, from),
        outcome,
      );
    }
    if (gone || ended) {
      const what =
        "lost" in outcome
          ? `SSH lost (${errorText(outcome.lost)})`
          : "kind" in outcome && outcome.kind === "exited"
            ? `QEMU exited (${outcome.exitCode})`
            : "QEMU exited";
      throw new InfraError(
        `${what} during ${test.suite}/${test.name}, and the console shows no kernel report (${ended ? "QEMU exited" : "QEMU still running"})`,
        guest.lines.slice(-10),
      );
    }
    // The guest lives on (an oops killed the test's shell, say): judged below, with what the console showed.
  }
  const result = outcome as CommandResult;
  // A test cut off by the harness's timer may never write its end marker: wait only briefly for it.
  await Promise.race([endSeen, guest.ended, ...(result.timedOut ? [settled(new Promise(() => {}), MARKER_WAIT_MS)] : [])]);
  const to = guest.lines.length;
  const kernelLog = guest.lines.slice(from, to).filter((l) => !l.includes(begin) && !l.includes(end));
  const findings = findingsFrom(guest, from, to);
  const judged = judge(test, result, kernelLog, findings, seconds);
  if (!result.timedOut) {
    const report = findings.find((f) => DEATH_KINDS.has(f.kind));
    if (report && judged.status === "fail") return { ...judged, kernelReport: reportExcerpt(report) };
    // Killed by its own timeout (busybox timeout, exit 137) with nothing on the console: what it left
    // blocked in the kernel, if anything, is the lead (a release that never returns, say).
    if (result.exitCode === 137 && !findings.some(isFailure)) return withBlocked(judged, await blockedTasks(session, deps.signal));
    return judged;
  }
  // A test that outlived its timeout: did it hang the kernel? Say what the console shows, and stop
  // the run if the guest no longer answers at all.
  // The kernel's own word on the hang, completed or still being printed (a stall's stack trace).
  const pending = guest.triage.pending();
  const report = findings.find((f) => DEATH_KINDS.has(f.kind)) ?? (pending && DEATH_KINDS.has(pending.kind) ? pending : undefined) ?? findings.find(isFailure);
  const alive = await session.run("true", ALIVE_CHECK_MS, deps.signal).then(
    (r) => r.exitCode === 0,
    () => false,
  );
  const shown = report ? `; the console shows ${report.kind}: ${report.title}` : "; nothing on the console";
  const noted: TestResult = {
    ...judged,
    reason: `${judged.reason}${shown}`,
    ...(report ? { kernelReport: reportExcerpt(report), findings: findings.includes(report) ? findings : [...findings, report] } : {}),
  };
  if (!alive) return { ...noted, reason: `${noted.reason}; the guest no longer answers`, guestUnresponsive: true };
  // The console silent and the guest answering: a task may be stuck in the kernel where no detector
  // looks yet (a killable wait, or less than the hung-task timeout). Where each blocked task waits.
  return report ? noted : withBlocked(noted, await blockedTasks(session, deps.signal));
}

/** A timed-out test's result with the tasks it left blocked: where each waits in the reason, the stacks as its report. */
function withBlocked(r: TestResult, blocked: BlockedTask[]): TestResult {
  if (blocked.length === 0) return r;
  return {
    ...r,
    reason: `${r.reason}; blocked in the kernel: ${blockedSummary(blocked).join("; ")}`,
    kernelReport: blocked.flatMap((t) => [`${t.comm} (pid ${t.pid}), blocked:`, ...t.frames.map((f) => `  ${f}`)]),
  };
}

/** The guest's tasks in D state and their stacks; none when the guest cannot say (no answer, no /proc/PID/stack). */
async function blockedTasks(session: SshSession, signal: AbortSignal): Promise<BlockedTask[]> {
  const r = await session.run(BLOCKED_TASKS_COMMAND, ALIVE_CHECK_MS, signal).catch(() => undefined);
  return r && r.exitCode === 0 ? parseBlockedTasks(r.stdout) : [];
}

/** The kernel's own report of its death since line `from`: waits up to `graceMs` for the console. */
async function kernelReportSince(guest: LiveGuest, from: number, graceMs: number): Promise<Finding | undefined> {
  const fatalSince = () => {
    const f = guest.triage.fatal;
    return f && f.lineIndex >= from ? f : undefined;
  };
  if (!fatalSince()) await settled(guest.ended, graceMs);
  // QEMU gone: a report still collecting its lines is as complete as it will ever be.
  if (!fatalSince() && (await settled(guest.ended, 0))) guest.triage.finish();
  return fatalSince() ?? findingsFrom(guest, from).find((f) => DEATH_KINDS.has(f.kind));
}

/** Reports that mean the kernel, not the test, failed: what a dead or dying kernel prints. */
const DEATH_KINDS = new Set(["panic", "oops", "bug", "kasan", "kfence", "soft-lockup", "hard-lockup", "rcu-stall", "hung-task"]);

function died(test: GuestTest, report: Finding, kernelLog: string[], findings: Finding[], outcome: Outcome): TestResult {
  const output = "lost" in outcome || "kind" in outcome ? "" : outcome.stdout + (outcome.stderr ? `\n${outcome.stderr}` : "");
  return {
    ...base(test),
    status: "fail",
    reason: `the kernel died: ${report.title}`,
    durationMs: "durationMs" in outcome ? outcome.durationMs : 0,
    exitCode: null,
    output,
    kernelLog,
    findings: findings.includes(report) ? findings : [...findings, report],
    kernelDied: true,
    kernelReport: reportExcerpt(report),
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

/** true when `p` settled within `ms`. */
function settled(p: Promise<unknown>, ms: number): Promise<boolean> {
  return Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function findingsFrom(guest: LiveGuest, from: number, to = Number.POSITIVE_INFINITY): Finding[] {
  return guest.triage.findings.filter((f) => f.lineIndex >= from && f.lineIndex < to);
}
