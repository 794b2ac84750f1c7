// TAP 13/14 and kernel KTAP v1 (Documentation/dev-tools/ktap.rst), as our guest tests print it:
// kselftest.h / wdh_tap.h programs, shell scripts, KUnit results. Lenient: anything that is not a
// TAP line is kept as a diagnostic, and what does not add up is listed in `problems`, never thrown.
//
// Nesting follows indentation: a block of TAP lines indented deeper than its parent (2 or 4 spaces,
// with its own version line and plan) holds the subtests of the parent's next result line.

export type TapStatus = "pass" | "fail" | "skip" | "todo";

export interface TapPoint {
  number: number;
  name: string;
  status: TapStatus;
  /** Text after the `#` of a directive, e.g. "SKIP no device", "TODO", "XFAIL reason". */
  directive?: string;
  /** `# ` lines (without the `# `) and other lines that follow this point until the next point.
   * For a point with subtests, the subtest block's own header lines (`# Subtest: x`) come first. */
  diagnostics: string[];
  subtests?: TapPoint[];
}

export interface TapReport {
  /** The version line as printed: "TAP version 13", "KTAP version 1". */
  version?: string;
  plan?: { count: number; skipAll?: string };
  points: TapPoint[];
  /** Report-level lines: before the first point, and kselftest's `# Totals:`. */
  diagnostics: string[];
  bailOut?: string;
  /** Consistency errors, each a short sentence. */
  problems: string[];
}

const VERSION = /^K?TAP version \d+$/i;
const PLAN = /^1\.\.(\d+)\s*(?:#\s*(.*))?$/;
// "ok 1 - name", "ok 1 name" (KTAP), and TAP's unnumbered "ok - name"; not "ok, fine" or "okay".
const RESULT = /^(not ok|ok)(?:\s+(\d+)(?=\s|$)|(?=\s+-(?:\s|$)|\s*$|\s+#))\s*(?:-(?:\s+|$))?(.*)$/;
const DIRECTIVE = /^(.*?)\s*(?<!\\)#\s*((?:skip\w*|todo|xfail|xpass|timeout|error)\b.*)$/i;
const BAIL_OUT = /^Bail out!\s*(.*)$/i;
const SUBTEST_HEADER = /^#\s*Subtest:\s*(.*)$/;
const TOTALS = /^#\s*Totals:/;

/** One nesting level: the root document or a subtest block. */
interface Level {
  indent: number;
  version?: string;
  plan?: { count: number; skipAll?: string };
  points: TapPoint[];
  /** Lines before the first point (the block header), lines after the block (KUnit's suite
   * stats) and `# Totals:`. A subtest block's go to the point that claims it. */
  diagnostics: string[];
  problems: string[];
  /** A finished subtest block waiting for this level's next result line. */
  pending?: Level;
}

interface Line {
  indent: number;
  text: string;
}

export function parseTap(text: string): TapReport {
  const lines: Line[] = text
    .split(/\r\n|\n|\r/)
    .map((l) => l.trimEnd())
    .filter((l) => l !== "")
    .map((l) => {
      const t = l.trimStart();
      return { indent: l.length - t.length, text: t };
    });
  if (lines.length === 0) return { points: [], diagnostics: [], problems: ["no output"] };

  const root = newLevel(lines.find((l) => classify(l.text) !== "text")?.indent ?? 0);
  const stack: Level[] = [root];
  const top = () => stack[stack.length - 1]!;
  let bailOut: string | undefined;
  // Non-TAP lines at another indent than the current level's (and `# Subtest:` headers), held until
  // the next TAP line tells whether they open a subtest block, close one, or follow the current point.
  let held: Line[] = [];

  const flush = (level: Level, lines: Line[]) => {
    for (const l of lines) attach(level, l);
  };
  const pop = () => {
    const child = stack.pop()!;
    if (child.pending) orphan(child, child.pending);
    child.problems.push(...check(child));
    const parent = top();
    if (parent.pending) orphan(parent, parent.pending);
    parent.pending = child;
  };

  for (const line of lines) {
    const kind = classify(line.text);
    if (kind === "text") {
      if (line.indent !== top().indent || SUBTEST_HEADER.test(line.text)) held.push(line);
      else {
        flush(top(), held);
        held = [];
        attach(top(), line);
      }
      continue;
    }

    if (line.indent > top().indent) {
      // A subtest block opens: held lines at its indent, and `# Subtest:`, are its header.
      const block = newLevel(line.indent);
      for (const h of held) {
        if (h.indent >= block.indent || SUBTEST_HEADER.test(h.text)) block.diagnostics.push(kept(h, block.indent));
        else attach(top(), h);
      }
      stack.push(block);
    } else if (line.indent < top().indent && stack.length > 1) {
      // Subtest blocks close: held lines inside the block follow its last point, shallower ones
      // (KUnit's "# suite: pass:2 fail:0 ...") belong to the block as a whole.
      flush(
        top(),
        held.filter((h) => h.indent >= top().indent),
      );
      const trailer = held.filter((h) => h.indent < top().indent);
      while (stack.length > 1 && top().indent > line.indent) pop();
      top().pending!.diagnostics.push(...trailer.map((h) => kept(h, top().indent)));
    } else {
      flush(top(), held);
    }
    held = [];
    const level = top();

    if (kind === "version") {
      if (level.version || level.plan || level.points.length > 0) level.problems.push(`unexpected "${line.text}" after the start of the output`);
      else level.version = line.text;
    } else if (kind === "plan") {
      const [, count, directive] = line.text.match(PLAN)!;
      const n = Number(count);
      if (level.plan) level.problems.push("more than one plan");
      else level.plan = n === 0 ? { count: 0, skipAll: stripSkip(directive ?? "") } : { count: n };
    } else if (kind === "bail") {
      bailOut ??= line.text.match(BAIL_OUT)![1] || "no reason given";
    } else {
      const point = resultPoint(line.text, level.points);
      const block = level.pending;
      level.pending = undefined;
      if (block) {
        const name = point.name || `test ${point.number}`;
        point.subtests = block.points;
        point.diagnostics.push(...block.diagnostics);
        level.problems.push(...block.problems.map((p) => `${name}: ${p}`));
        if (point.status === "pass" && block.points.some((p) => p.status === "fail")) {
          level.problems.push(`${name}: "ok" but a subtest failed`);
        }
      }
      level.points.push(point);
    }
  }

  flush(top(), held);
  while (stack.length > 1) pop();
  if (root.pending) orphan(root, root.pending);
  root.problems.push(...check(root));

  let problems = root.problems;
  const tap = root.version !== undefined || root.plan !== undefined || root.points.length > 0 || bailOut !== undefined;
  if (!tap) problems.push("no TAP output (no plan and no test points)");
  else if (!root.plan && !bailOut) problems.push("no plan (1..N)");
  // After a bail out, unmet plans and unfinished subtests are expected: the bail out says why.
  if (bailOut !== undefined) problems = problems.filter((p) => !/plan said|has no result line/.test(p));

  return {
    ...(root.version ? { version: root.version } : {}),
    ...(root.plan ? { plan: root.plan } : {}),
    points: root.points,
    diagnostics: root.diagnostics,
    ...(bailOut !== undefined ? { bailOut } : {}),
    problems,
  };
}

/** A non-TAP line after `level`'s current point (report-level before the first point). */
function attach(level: Level, line: Line): void {
  const last = level.points[level.points.length - 1];
  (last && !TOTALS.test(line.text) ? last.diagnostics : level.diagnostics).push(kept(line, level.indent));
}

/** The line's text without `# `, keeping any indentation beyond `base` (YAML blocks, nested output). */
function kept(line: Line, base: number): string {
  const text = line.text.startsWith("#") ? line.text.replace(/^#\s?/, "") : line.text;
  return " ".repeat(Math.max(0, line.indent - base)) + text;
}

function stripSkip(directive: string): string {
  return directive.replace(/^skip\w*:?\s*/i, "");
}

function newLevel(indent: number): Level {
  return { indent, points: [], diagnostics: [], problems: [] };
}

function classify(text: string): "version" | "plan" | "result" | "bail" | "text" {
  if (VERSION.test(text)) return "version";
  if (PLAN.test(text)) return "plan";
  if (RESULT.test(text)) return "result";
  if (BAIL_OUT.test(text)) return "bail";
  return "text";
}

function resultPoint(text: string, before: TapPoint[]): TapPoint {
  const [, ok, num, rest = ""] = text.match(RESULT)!;
  const previous = before[before.length - 1]?.number ?? 0;
  const number = num === undefined ? previous + 1 : Number(num);
  const d = rest.match(DIRECTIVE);
  const name = (d ? d[1]! : rest).trim();
  const directive = d?.[2]?.trim();
  const status: TapStatus = /^skip/i.test(directive ?? "") ? "skip" : /^todo\b/i.test(directive ?? "") ? "todo" : ok === "ok" ? "pass" : "fail";
  return { number, name, status, ...(directive ? { directive } : {}), diagnostics: [] };
}

/** Checks a finished level: plan against points, numbering. */
function check(level: Level): string[] {
  const problems: string[] = [];
  let expected = 1;
  const seen = new Set<number>();
  for (const p of level.points) {
    if (seen.has(p.number)) problems.push(`test number ${p.number} appears twice`);
    else if (p.number !== expected) problems.push(`test ${p.number} out of order (expected ${expected})`);
    seen.add(p.number);
    expected = p.number + 1;
  }
  if (level.plan && level.plan.count !== level.points.length) problems.push(`plan said ${level.plan.count}, saw ${level.points.length}`);
  return problems;
}

/** A subtest block that no result line claimed (the output stopped, or it is malformed). */
function orphan(parent: Level, block: Level): void {
  const name = block.diagnostics.map((d) => d.match(/^Subtest:\s*(.*)$/)?.[1]).find((n) => n) ?? `at indent ${block.indent}`;
  const failed = block.points.filter((p) => p.status === "fail").length;
  parent.problems.push(`subtest ${name} has no result line${failed ? ` (${failed} of its points failed)` : ""}`);
  parent.problems.push(...block.problems.map((p) => `${name}: ${p}`));
}

export interface TapVerdict {
  status: "pass" | "fail" | "skip";
  reason?: string;
}

/** kselftest's exit code for "skipped" (KSFT_SKIP). */
const KSFT_SKIP = 4;

export function tapVerdict(report: TapReport, exitCode: number | null): TapVerdict {
  const reasons: string[] = [];
  if (report.bailOut !== undefined) reasons.push(`bailed out: ${report.bailOut}`);
  const failed = report.points.filter((p) => p.status === "fail");
  if (failed.length > 0) {
    const names = failed.slice(0, 3).map((p) => p.name || `test ${p.number}`);
    if (failed.length > 3) names.push("...");
    reasons.push(`${failed.length} of ${report.points.length} points failed: ${names.join(", ")}`);
  }
  reasons.push(...report.problems);
  if (reasons.length > 0) return { status: "fail", reason: reasons.join("; ") };

  const skipAll = report.plan?.skipAll;
  const allSkipped = report.points.length > 0 && report.points.every((p) => p.status === "skip");
  if (exitCode === null) return { status: "fail", reason: "no exit code (killed by a signal?)" };
  if (exitCode !== 0 && !(exitCode === KSFT_SKIP && (skipAll !== undefined || allSkipped))) {
    return { status: "fail", reason: `exit code ${exitCode}` };
  }
  if (skipAll !== undefined) return { status: "skip", reason: `skipped: ${skipAll || "plan 1..0"}` };
  if (allSkipped) {
    const why = stripSkip(report.points[0]!.directive ?? "");
    return { status: "skip", reason: `all ${report.points.length} points skipped${why ? `: ${why}` : ""}` };
  }
  return { status: "pass" };
}
