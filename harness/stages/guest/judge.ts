// A guest test's verdict from what it printed, how it exited and what the kernel logged while it ran:
// the same judgement whichever executor ran the test (local QEMU over SSH, a LAVA lab's test shell).
import type { CommandResult } from "../../lib/ssh.ts";
import { parseTap, tapVerdict, type TapReport } from "../report/tap.ts";
import { isFailure, type Finding } from "../triage/triage.ts";
import { testSmmuEvents, unexpectedReason, type AttributedSmmuEvent } from "../triage/smmu-expect.ts";
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
  /** SMMU events while it ran, decoded, each expected by the test (suite.yaml `expects:`) or not. */
  smmuEvents?: AttributedSmmuEvent[];
  /** The kernel died while this test ran (its report is in `kernelReport` and `findings`). */
  kernelDied?: boolean;
  /** The test timed out and the guest then did not answer a trivial command either. */
  guestUnresponsive?: boolean;
  /** The kernel's report that ended or hung the test: excerpt, then (once decoded) file:line frames. */
  kernelReport?: string[];
}

export function judge(test: GuestTest, r: CommandResult, kernelLog: string[], findings: Finding[], seconds: number): TestResult {
  const output = r.stdout + (r.stderr ? `\n${r.stderr}` : "");
  const tap = parseTap(r.stdout);
  const metrics = parseMetrics(r.stdout);
  const smmuEvents = testSmmuEvents(`${test.suite}/${test.name}`, test.expects, findings);
  const common = {
    ...base(test),
    durationMs: r.durationMs,
    exitCode: r.exitCode,
    output,
    tap,
    kernelLog,
    findings,
    ...(metrics ? { metrics } : {}),
    ...(smmuEvents.length ? { smmuEvents } : {}),
  };
  if (r.timedOut || r.exitCode === 137) return { ...common, status: "fail", reason: `timed out after ${seconds} s` };
  const bad = findings.filter(isFailure);
  const unexpected = unexpectedReason(smmuEvents);
  if (bad.length > 0 || unexpected) {
    const reasons = [...(bad.length > 0 ? [`the kernel logged ${bad.map((f) => f.title).join("; ")}`] : []), ...(unexpected ? [unexpected] : [])];
    return { ...common, status: "fail", reason: reasons.join("; ") };
  }
  const verdict = tapVerdict(tap, r.exitCode);
  return { ...common, status: verdict.status, reason: verdict.reason };
}

export function base(test: GuestTest) {
  return { suite: test.suite, name: test.name };
}

export function skippedTest(test: GuestTest, reason: string): TestResult {
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
