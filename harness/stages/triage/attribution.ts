// Which guest test was running when the kernel printed a line: the runner writes
// "wdh: test-begin <suite>/<name>#<nonce>" and "wdh: test-end <suite>/<name>#<nonce> rc=N" to /dev/kmsg
// around each test, so a saved console log says, for every report in it, which test it belongs to.
import { consoleMessage, type Finding } from "./triage.ts";

const MARKER = /wdh: test-(begin|end) (\S+?)#([0-9a-f]+)\b/;

export interface TestSpan {
  /** suite/name */
  test: string;
  begin: number;
  /** Line of the end marker; undefined when the test never ended (the kernel died or hung in it). */
  end?: number;
}

/** Every test's span on the console, in order. */
export function testSpans(lines: readonly string[]): TestSpan[] {
  const spans: TestSpan[] = [];
  const open = new Map<string, TestSpan>();
  for (const [i, raw] of lines.entries()) {
    const m = MARKER.exec(consoleMessage(raw).text);
    if (!m) continue;
    const key = `${m[2]}#${m[3]}`;
    if (m[1] === "begin") {
      const span: TestSpan = { test: m[2]!, begin: i };
      open.set(key, span);
      spans.push(span);
    } else {
      const span = open.get(key);
      if (span) span.end = i;
      open.delete(key);
    }
  }
  return spans;
}

/** The test running at line `lineIndex`, if any: begun before it and not ended before it. */
export function testAt(lines: readonly string[], lineIndex: number): string | undefined {
  const spans = testSpans(lines.slice(0, lineIndex + 1));
  return spans.filter((s) => s.begin < lineIndex && (s.end === undefined || s.end > lineIndex)).at(-1)?.test;
}

/** Each finding with the test it belongs to (undefined: boot, shutdown or between tests). */
export function attributeFindings(lines: readonly string[], findings: readonly Finding[]): { finding: Finding; test?: string }[] {
  const spans = testSpans(lines);
  return findings.map((finding) => {
    const span = spans.filter((s) => s.begin < finding.lineIndex && (s.end === undefined || s.end > finding.lineIndex)).at(-1);
    return { finding, test: span?.test };
  });
}

/**
 * Where a line is, for a finding no test claimed: "during boot (before the first test)", "between
 * tests A and B", "after the last test (A)", or "in A" when it lies inside a test's span.
 */
export function placeOf(spans: readonly TestSpan[], lineIndex: number): string {
  const inside = spans.filter((s) => s.begin < lineIndex && (s.end === undefined || s.end > lineIndex)).at(-1);
  if (inside) return `in ${inside.test}`;
  const before = spans.filter((s) => s.begin < lineIndex).at(-1);
  const after = spans.find((s) => s.begin > lineIndex);
  if (!before) return spans.length > 0 ? "during boot (before the first test)" : "during boot";
  return after ? `between tests ${before.test} and ${after.test}` : `after the last test (${before.test})`;
}
