// Streaming triage of a kernel console: turns crash and problem reports into findings as the lines
// arrive (the QEMU stage feeds it live to stop early on a panic), and re-reads saved logs offline.
import {
  CALL_TRACE,
  AFTER_TRACE,
  END_TRACE,
  FRAME,
  GENERIC_FRAME,
  IGNORED,
  PANIC_CAUSES,
  PATTERNS,
  PC_LINE,
  TRACE_MARKER,
  type FindingKind,
  type Pattern,
  type Severity,
} from "./patterns.ts";

import { parseSmmuEvent, type SmmuEvent } from "./smmu.ts";
import type { Signature } from "../../lib/outcome.ts";

export type { FindingKind, Severity } from "./patterns.ts";
export { parseSmmuEvent, type SmmuEvent } from "./smmu.ts";

export interface Finding {
  /** Id of the pattern that matched the header line. */
  id: string;
  kind: FindingKind;
  severity: Severity;
  title: string;
  /** 0-based index of the header line in the fed stream. */
  lineIndex: number;
  /** printk time of the header line, in seconds. */
  timestamp?: number;
  /** The header and the report lines that follow it, as fed (minus `\r`). */
  lines: string[];
  /** Functions of the report's first stack dump, innermost first, offsets and `?` frames dropped. */
  stack: string[];
  /** Compares crashes across runs: kind, title with numbers normalised, top non-generic frames. */
  signature: string;
  smmu?: SmmuEvent;
  /** This report was followed by a panic it caused (oops=panic, panic_on_warn, ...), so it is fatal. */
  causedPanic?: boolean;
}

const MAX_REPORT_LINES = 60;
const SIGNATURE_FRAMES = 3;
/** "[    1.234567] " with an optional PRINTK_CALLER "[    T1] " after it. */
const TIMESTAMP = /^\[\s*(\d+\.\d+)\](?:\[\s*[TC]\d+\])?\s?/;

interface OpenReport {
  pattern: Pattern;
  match: RegExpMatchArray;
  lineIndex: number;
  timestamp?: number;
  lines: string[];
  stack: string[];
  pc?: string;
  inTrace: boolean;
  traceDone: boolean;
  /** Past the pattern's otherStacks line: frames from here on are another task's. */
  othersOnly?: boolean;
}

/** The message of a console line, without `\r`, printk timestamp and caller id. */
export function consoleMessage(raw: string): { text: string; timestamp?: number } {
  const line = raw.replaceAll("\r", "");
  const ts = TIMESTAMP.exec(line);
  return ts ? { text: line.slice(ts[0].length), timestamp: Number(ts[1]) } : { text: line };
}

function matchHeader(text: string): { pattern: Pattern; match: RegExpMatchArray } | undefined {
  if (IGNORED.some((re) => re.test(text))) return undefined;
  for (const pattern of PATTERNS) {
    const match = text.match(pattern.regex);
    if (match) return { pattern, match };
  }
  return undefined;
}

export class ConsoleTriage {
  /** Completed findings, in console order. */
  readonly findings: Finding[] = [];
  private open: OpenReport | undefined;
  private lineCount = 0;

  /**
   * The first fatal finding: a panic, or the report that caused it (the oops before "Kernel panic -
   * not syncing: Oops: Fatal exception", the warning before a panic_on_warn panic).
   */
  get fatal(): Finding | undefined {
    return this.findings.find((f) => f.severity === "fatal");
  }

  /**
   * Feed one console line; returns the findings this line completed, plus an earlier finding this
   * line made fatal (a panic header naming it as the cause), so `feed(l).includes(triage.fatal)`
   * tells a live reader the kernel is dead as soon as the console says so.
   */
  feed(raw: string): Finding[] {
    const lineIndex = this.lineCount++;
    const line = raw.replaceAll("\r", "");
    const { text, timestamp } = consoleMessage(line);
    const completed: Finding[] = [];
    if (this.open) {
      const verdict = this.continueReport(this.open, text, line);
      if (verdict === "more") return completed;
      completed.push(this.close());
      if (verdict === "closed") return completed;
    }
    const header = matchHeader(text);
    if (header) {
      const cause = header.pattern.kind === "panic" ? this.promoteCause(text) : undefined;
      if (cause && !completed.includes(cause)) completed.push(cause);
      this.open = { ...header, lineIndex, timestamp, lines: [line], stack: [], inTrace: false, traceDone: false };
      if ((header.pattern.maxLines ?? MAX_REPORT_LINES) <= 1) completed.push(this.close());
    }
    return completed;
  }

  /**
   * The report still collecting its lines, as a finding so far, without closing it: what the console
   * shows now, e.g. a stall report whose stack is still being printed when a test's timeout fires.
   */
  pending(): Finding | undefined {
    return this.open ? this.build(this.open) : undefined;
  }

  /** End of the console: completes a report still collecting its lines. */
  finish(): Finding[] {
    return this.open ? [this.close()] : [];
  }

  /** Whether `text` belongs to the open report ("more"), ends it ("closed"), or is past its end ("rejected"). */
  private continueReport(r: OpenReport, text: string, line: string): "more" | "closed" | "rejected" {
    const header = matchHeader(text);
    if (header && !header.pattern.partOf?.includes(r.pattern.id)) return "rejected";
    if (r.pattern.body && !r.pattern.body.test(text)) return "rejected";
    const ownEnd = r.pattern.end;
    // After a Call trace and its "Code:" (or irq state) lines only the end marker may follow.
    if (!ownEnd && r.traceDone && !END_TRACE.test(text) && !AFTER_TRACE.test(text)) return "rejected";

    if (r.pattern.otherStacks?.test(text)) r.othersOnly = true;
    if (!r.traceDone) {
      const frame = FRAME.exec(text);
      if (!r.inTrace && CALL_TRACE.test(text)) {
        r.inTrace = true;
      } else if (frame && (r.inTrace || r.pattern.bareStack)) {
        r.inTrace = true;
        if (!frame[1] && !r.othersOnly) r.stack.push(frame[2]!); // "? func" frames are stale stack contents
      } else if (r.inTrace && !TRACE_MARKER.test(text)) {
        r.traceDone = true;
        // Without its own end marker a report ends with its Call trace, or after "Code:" and irq state.
        if (!ownEnd && !AFTER_TRACE.test(text) && !END_TRACE.test(text)) return "rejected";
      }
    }

    r.lines.push(line);
    r.pc ??= PC_LINE.exec(text)?.[1];
    if ((ownEnd ?? END_TRACE).test(text)) return "closed";
    return r.lines.length >= (r.pattern.maxLines ?? MAX_REPORT_LINES) ? "closed" : "more";
  }

  private close(): Finding {
    const finding = this.build(this.open!);
    this.open = undefined;
    this.findings.push(finding);
    return finding;
  }

  /** A panic that says it was caused by an earlier report ("Oops: Fatal exception") makes that report fatal. */
  private promoteCause(panicText: string): Finding | undefined {
    const causes = PANIC_CAUSES.find((c) => c.panic.test(panicText))?.causes;
    if (!causes) return undefined;
    for (let i = this.findings.length - 1; i >= 0; i--) {
      const f = this.findings[i]!;
      if (!causes.includes(f.kind)) continue;
      f.severity = "fatal";
      f.causedPanic = true;
      return f;
    }
    return undefined;
  }

  private build(r: OpenReport): Finding {
    const p = r.pattern;
    let title = p.title(r.match);
    let smmu: SmmuEvent | undefined;
    if (p.inFunction) {
      const fn = r.pc ?? r.stack.find((f) => !GENERIC_FRAME.test(baseName(f)));
      if (fn) title += ` in ${baseName(fn)}`;
    }
    if (p.kind === "smmu-event") {
      smmu = parseSmmuEvent(r.lines.map((l) => consoleMessage(l).text));
      if (smmu) title = smmuTitle(title, smmu);
    }
    const finding: Finding = {
      id: p.id,
      kind: p.kind,
      severity: p.severity,
      title,
      lineIndex: r.lineIndex,
      lines: [...r.lines],
      stack: [...r.stack],
      signature: signature(p.kind, title, r.stack),
    };
    if (r.timestamp !== undefined) finding.timestamp = r.timestamp;
    if (smmu) finding.smmu = smmu;
    return finding;
  }
}

/** "foo.isra.0" and "foo.constprop.0" are foo: compiler clones must not change a signature. */
function baseName(fn: string): string {
  return fn.split(".")[0] || fn;
}

/** Strip what differs between two runs of the same crash: addresses, PIDs, CPUs, times, line numbers. */
export function normalizeTitle(title: string): string {
  return title
    .replace(/0x[0-9a-f]+/gi, "0x?")
    .replace(/\b(?=[0-9a-f]*\d)[0-9a-f]{5,}\b/gi, "?") // bare addresses and pfns
    .replace(/(?<![A-Za-z_])\d+(?:\.\d+)?/g, "N"); // but not the 3 of arm-smmu-v3
}

function signature(kind: FindingKind, title: string, stack: string[]): string {
  const frames = stack
    .map(baseName)
    .filter((f) => !GENERIC_FRAME.test(f))
    .slice(0, SIGNATURE_FRAMES);
  return `${kind}: ${normalizeTitle(title)}${frames.length ? ` | ${frames.join(" < ")}` : ""}`;
}

function smmuTitle(header: string, e: SmmuEvent): string {
  const parts = [`${header}${e.eventName ? ` ${e.eventName}` : ""}`];
  if (e.client) parts.push(`client ${e.client}`);
  parts.push(`StreamID 0x${e.streamId.toString(16)}`);
  if (e.substreamId !== undefined) parts.push(`SubstreamID 0x${e.substreamId.toString(16)}`);
  if (e.address) parts.push(`address ${e.address}`);
  return parts.join(", ");
}

/** Triage a saved console log with the same parser the live run uses. */
export function triageLog(text: string): Finding[] {
  const triage = new ConsoleTriage();
  for (const line of text.split("\n")) triage.feed(line);
  triage.finish();
  return triage.findings;
}

/**
 * Fatal, error and warning findings fail a run by themselves; info (an SMMU event) fails it only
 * where no test declared it (smmu-expect.ts).
 */
export function isFailure(f: Finding): boolean {
  return f.severity !== "info";
}

/** One line per finding, for the run report; console lines are numbered from 1. */
export function summarize(findings: readonly Finding[]): string[] {
  return findings.map((f) => `${f.kind}: ${f.title} (console line ${f.lineIndex + 1}${f.causedPanic ? ", caused the panic" : ""})`);
}

/**
 * The lines of a report a developer reads first: its header, where it happened (pc/lr), the call trace
 * and the panic line; the register dump and fault decoding stay in console.log.
 */
/** A finding as a run's failure signature: what it is, its top frames, and triage's comparable line. */
export function crashSignature(f: Finding): Extract<Signature, { type: "crash" }> {
  return { type: "crash", kind: f.kind, title: f.title, frames: f.stack.slice(0, 5), text: f.signature, consoleLine: f.lineIndex + 1 };
}

export function reportExcerpt(f: Finding, max = 30): string[] {
  const keep =
    /^(Unable to handle|Internal error|kernel BUG|WARNING:|BUG:|Kernel panic|UBSAN:|watchdog:|rcu:|INFO: task|Modules linked in|CPU: |Workqueue:|pc : |lr : |Call [Tt]race:|\s*(\?\s+)?\S+\+0x[0-9a-f]+\/0x[0-9a-f]+)/;
  const excerpt = f.lines.filter((l) => keep.test(consoleMessage(l).text));
  const lines = excerpt.length > 0 ? excerpt : f.lines;
  return [...lines.slice(0, max), `(the whole report: console.log line ${f.lineIndex + 1})`];
}
