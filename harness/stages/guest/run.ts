// Stage "guest": run each guest test over the one SSH session, with its own timeout, and keep the kernel
// log written while it ran (between markers the test runner writes to /dev/kmsg). A test that makes the
// kernel log an oops or a WARNING fails, whatever it printed; a kernel that dies ends the stage at once.
import { randomBytes } from "node:crypto";
import type { CommandResult, SshSession } from "../../lib/ssh.ts";
import { failed, passed, type Deps, type StageResult } from "../../lib/stage.ts";
import type { LiveGuest } from "../qemu/boot.ts";
import { parseTap, tapVerdict, type TapReport } from "../report/tap.ts";
import { isFailure, type Finding } from "../triage/triage.ts";
import type { GuestTest } from "./suites.ts";

export type TestStatus = "pass" | "fail" | "skip" | "error";

export interface TestResult {
  suite: string;
  name: string;
  status: TestStatus;
  reason?: string;
  durationMs: number;
  exitCode: number | null;
  output: string;
  tap?: TapReport;
  /** Figures the test reported as `# metric: <name> <value> [unit]` lines (benchmarks). */
  metrics?: Record<string, { value: number; unit: string }>;
  /** Console lines the kernel printed while the test ran. */
  kernelLog: string[];
  findings: Finding[];
}

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
  for (const test of input.tests) {
    if (died) {
      results.push(skippedTest(test, died));
      continue;
    }
    deps.progress(`${test.suite}/${test.name}`);
    const result = await runOne(test, input, deps);
    results.push(result);
    const fatal = input.guest.triage.fatal;
    if (fatal) died = `the kernel died during ${test.suite}/${test.name}: ${fatal.title}`;
  }
  const failures = results.filter((r) => r.status === "fail" || r.status === "error");
  if (died) return failed("guest", started, died, { output: results, details: failures.map((f) => `${f.suite}/${f.name}: ${f.reason}`) });
  if (failures.length > 0) {
    return failed("guest", started, `${failures.length} of ${results.length} guest tests failed: ${failures.map((f) => `${f.suite}/${f.name}`).join(", ")}`, {
      output: results,
      details: failures.map((f) => `${f.suite}/${f.name}: ${f.reason}`),
    });
  }
  return passed("guest", started, results, { reason: `${results.length} guest tests passed` });
}

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
  const outcome = await Promise.race([
    session.run(command, (seconds + 5) * 1000, deps.signal),
    guest.ended.then((e) => e),
  ]);

  if ("kind" in outcome) {
    const why = outcome.kind === "fatal" ? `the kernel died: ${outcome.finding.title}` : `QEMU exited (${outcome.exitCode})`;
    const kernelLog = guest.lines.slice(from);
    return { ...base(test), status: "fail", reason: why, durationMs: 0, exitCode: null, output: "", kernelLog, findings: findingsFrom(guest, from) };
  }
  await Promise.race([endSeen, guest.ended]);
  const to = guest.lines.length;
  const kernelLog = guest.lines.slice(from, to).filter((l) => !l.includes(begin) && !l.includes(end));
  const findings = findingsFrom(guest, from, to);
  return judge(test, outcome, kernelLog, findings, seconds);
}

function findingsFrom(guest: LiveGuest, from: number, to = Number.POSITIVE_INFINITY): Finding[] {
  return guest.triage.findings.filter((f) => f.lineIndex >= from && f.lineIndex < to);
}

export function judge(test: GuestTest, r: CommandResult, kernelLog: string[], findings: Finding[], seconds: number): TestResult {
  const output = r.stdout + (r.stderr ? `\n${r.stderr}` : "");
  const tap = parseTap(r.stdout);
  const metrics = parseMetrics(r.stdout);
  const common = { ...base(test), durationMs: r.durationMs, exitCode: r.exitCode, output, tap, kernelLog, findings, ...(metrics ? { metrics } : {}) };
  if (r.timedOut || r.exitCode === 137) return { ...common, status: "fail", reason: `timed out after ${seconds} s` };
  const bad = findings.filter(isFailure);
  if (bad.length > 0) return { ...common, status: "fail", reason: `the kernel logged ${bad.map((f) => f.title).join("; ")}` };
  const verdict = tapVerdict(tap, r.exitCode);
  return { ...common, status: verdict.status, reason: verdict.reason };
}

function base(test: GuestTest) {
  return { suite: test.suite, name: test.name };
}

function skippedTest(test: GuestTest, reason: string): TestResult {
  return { ...base(test), status: "skip", reason, durationMs: 0, exitCode: null, output: "", kernelLog: [], findings: [] };
}

const METRIC = /^\s*#\s*metric:\s*([\w.:/-]+)\s+(-?[\d.]+(?:[eE][-+]?\d+)?)\s*(\S*)\s*$/;

/** `# metric: user_queue.64B.req_per_s 12345 req/s` lines, a TAP diagnostic any parser ignores. */
export function parseMetrics(stdout: string): TestResult["metrics"] {
  const metrics: NonNullable<TestResult["metrics"]> = {};
  for (const line of stdout.split("\n")) {
    const m = METRIC.exec(line);
    if (m) metrics[m[1]!] = { value: Number(m[2]), unit: m[3] ?? "" };
  }
  return Object.keys(metrics).length > 0 ? metrics : undefined;
}
