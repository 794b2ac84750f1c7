// Which SMMU events a guest test declared (suite.yaml `expects:`), and the run's account of them: each
// event belongs to the test it happened in when that test expects it; any other (in a test that does
// not declare it, at boot, between tests) fails the run, named decoded and placed.
import type { SmmuEventFilter, TestExpectation } from "../../config/schema.ts";
import type { Finding } from "./triage.ts";
import { clientOf, describeSmmuEvent, saturatedWindows, SMMU_PRINT_BURST, SMMU_PRINT_INTERVAL_S, type SmmuEvent } from "./smmu.ts";

/** One SMMU event with where it happened and whether that place expected it. */
export interface AttributedSmmuEvent {
  /** 0-based console line of the event's header. */
  lineIndex: number;
  timestamp?: number;
  event: SmmuEvent;
  /** describeSmmuEvent(event) */
  description: string;
  /** suite/name of the test it happened in; absent at boot, between tests, after the last. */
  test?: string;
  /** Where, in words: "in warpdrive/isolation", "during boot (before the first test)", ... */
  where: string;
  expected: boolean;
}

/** Problems with a test's `expects:` that the schema cannot see (event names), for a usage error. */
export { expectationProblems } from "../../config/suites.ts";

/** Whether one of the test's expectations covers this event. */
export function expectsSmmuEvent(expects: readonly TestExpectation[] | undefined, e: SmmuEvent): boolean {
  return (expects ?? []).some((x) => x === "smmu-event" || filterMatches(x["smmu-event"], e));
}

function filterMatches(f: SmmuEventFilter, e: SmmuEvent): boolean {
  if (f.event !== undefined && ![f.event].flat().includes(e.eventName ?? "")) return false;
  if (f.sid !== undefined && f.sid !== e.streamId) return false;
  if (f.ssid !== undefined && f.ssid !== e.substreamId) return false;
  if (f.client !== undefined) {
    const client = clientOf(e);
    if (!client || normalClient(client.name) !== normalClient(f.client)) return false;
  }
  return true;
}

/** "00:03.0" is "0000:00:03.0"; PCI addresses compare without case. */
function normalClient(c: string): string {
  const short = /^[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/i.test(c);
  return (short ? `0000:${c}` : c).toLowerCase();
}

/** The SMMU events among a test's findings, each judged against the test's expectations. */
export function testSmmuEvents(test: string, expects: readonly TestExpectation[] | undefined, findings: readonly Finding[]): AttributedSmmuEvent[] {
  return findings.flatMap((f) => (f.smmu ? [attributed(f, f.smmu, test, `in ${test}`, expectsSmmuEvent(expects, f.smmu))] : []));
}

export function attributed(f: Finding, event: SmmuEvent, test: string | undefined, where: string, expected: boolean): AttributedSmmuEvent {
  return {
    lineIndex: f.lineIndex,
    ...(f.timestamp !== undefined ? { timestamp: f.timestamp } : {}),
    event,
    description: describeSmmuEvent(event),
    ...(test ? { test } : {}),
    where,
    expected,
  };
}

/** "unexpected SMMU event F_TRANSLATION client ... in baseline/aes-cbc-kat (console line 212)" */
export function unexpectedText(a: AttributedSmmuEvent): string {
  return `unexpected SMMU event ${a.description} ${a.where} (console line ${a.lineIndex + 1})`;
}

/** The run's SMMU events for results.json and the summary. */
export interface SmmuReport {
  /** Events printed on the console (decoded). */
  events: number;
  /** Expected events per test, suite/name → count. */
  attributed: Record<string, number>;
  /** Events no test expected, with where they happened. */
  unexpected: { description: string; where: string; line: number }[];
  /** Events the kernel counted but did not print ("callbacks suppressed"), with the console line saying so. */
  suppressed: { count: number; line: number }[];
  /**
   * printk times at which the kernel had printed its whole burst (10 events in 5 s): more events after
   * those may have been dropped, and it says how many only if another event is printed later.
   */
  burstExhaustedAt: number[];
}

export function smmuReport(events: readonly AttributedSmmuEvent[], suppressed: readonly Finding[]): SmmuReport {
  const attributedCounts: Record<string, number> = {};
  for (const e of events) if (e.expected && e.test) attributedCounts[e.test] = (attributedCounts[e.test] ?? 0) + 1;
  const times = events.flatMap((e) => (e.timestamp !== undefined ? [e.timestamp] : []));
  return {
    events: events.length,
    attributed: attributedCounts,
    unexpected: events.filter((e) => !e.expected).map((e) => ({ description: e.description, where: e.where, line: e.lineIndex + 1 })),
    suppressed: suppressed.map((f) => ({ count: Number(/(\d+) SMMU events/.exec(f.title)?.[1] ?? 0), line: f.lineIndex + 1 })),
    burstExhaustedAt: saturatedWindows(times),
  };
}

/**
 * "SMMU events: 24, attributed to tests warpdrive/isolation(16); UNEXPECTED: 8 in warpdrive/bench; 21 more not
 * printed (rate limit, console line 261)"; undefined when the console had none.
 */
export function smmuSummaryLine(r: SmmuReport): string | undefined {
  if (r.events === 0 && r.suppressed.length === 0) return undefined;
  const counts = (m: Record<string, number>) =>
    Object.entries(m)
      .map(([t, n]) => `${t}(${n})`)
      .join(", ");
  const parts = [`SMMU events: ${r.events}`];
  if (Object.keys(r.attributed).length > 0) parts[0] += `, attributed to tests ${counts(r.attributed)}`;
  if (r.unexpected.length > 0) {
    const where = new Map<string, number>();
    for (const u of r.unexpected) where.set(u.where, (where.get(u.where) ?? 0) + 1);
    parts.push(`UNEXPECTED: ${[...where].map(([w, n]) => `${n} ${w}`).join(", ")}`);
  }
  const dropped = r.suppressed.reduce((n, s) => n + s.count, 0);
  if (dropped > 0) parts.push(`${dropped} more not printed (rate limit, console line ${r.suppressed.map((s) => s.line).join(", ")})`);
  if (r.burstExhaustedAt.length > 0) {
    parts.push(
      `events may have been suppressed: ${SMMU_PRINT_BURST} printed within ${SMMU_PRINT_INTERVAL_S} s at ${r.burstExhaustedAt.map((t) => `${t.toFixed(1)} s`).join(", ")}`,
    );
  }
  return parts.join("; ");
}

/** For a test's reason: its unexpected events, the first one named. */
export function unexpectedReason(events: readonly AttributedSmmuEvent[]): string | undefined {
  const bad = events.filter((e) => !e.expected);
  if (bad.length === 0) return undefined;
  const first = bad[0]!;
  const more = bad.length > 1 ? ` (and ${bad.length - 1} more)` : "";
  return `unexpected SMMU event ${first.description} (console line ${first.lineIndex + 1})${more}; the test does not declare it (suite.yaml expects:)`;
}
