// What a bisection found, three ways: lines for a human, results.json, junit.xml (one case per step).
import { toJUnit, type JUnitCase } from "../report/junit.ts";
import type { BisectResult, StepRecord } from "./engine.ts";
import { describeHunt } from "./verdict.ts";

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const shortOf = (commit: string) => commit.slice(0, 12);

export function bisectSummary(result: BisectResult): string[] {
  const lines: string[] = [];
  if (result.status === "found") {
    lines.push(`first bad: ${result.firstBad.commit} ${result.firstBad.subject}`);
    lines.push(`hunted:    ${describeHunt(result.hunt)} failure: ${result.hunted}`);
    lines.push(`confidence: ${result.confidence}`);
    lines.push(`evidence:  bad ${result.badStep.outcomes.find((o) => o.runDir)?.runDir ?? "-"}`);
    if (result.lastGood) lines.push(`           last good ${result.lastGood.outcomes.find((o) => o.runDir)?.runDir ?? "-"}`);
  } else if (result.status === "ambiguous") {
    lines.push(`not found: ${result.reason}`, `hunted:    ${describeHunt(result.hunt)} failure: ${result.hunted}`);
    for (const c of result.candidates) lines.push(`  candidate ${c.commit} ${c.subject}`);
  } else {
    lines.push(`stopped: ${result.reason}`);
  }
  lines.push(`steps (${result.steps.length}, ${seconds(result.steps.reduce((t, s) => t + s.durationMs, 0))} in all):`);
  for (const [i, s] of result.steps.entries()) lines.push(`  ${stepLine(i, s)}`);
  return lines;
}

function stepLine(i: number, s: StepRecord): string {
  const built = s.outcomes.some((o) => o.built) ? "built" : "no build";
  return `${String(i + 1).padStart(2)} ${s.role.padEnd(8)} ${shortOf(s.commit)} ${s.verdict.padEnd(4)} ${seconds(s.durationMs).padStart(7)} ${built}; ${s.confidence}: ${s.reason} | ${s.subject}`;
}

export function bisectResultsJson(result: BisectResult): unknown {
  const steps = result.steps.map((s) => ({
    ...s,
    durationMs: Math.round(s.durationMs),
    builds: s.outcomes.filter((o) => o.built).length,
    outcomes: s.outcomes.map((o) => ({ ...o, durationMs: Math.round(o.durationMs) })),
  }));
  const totals = {
    steps: steps.length,
    builds: steps.reduce((n, s) => n + s.builds, 0),
    durationMs: steps.reduce((n, s) => n + s.durationMs, 0),
  };
  // The git log has its own file (bisect.log).
  if (result.status === "endpoints") return { ...result, steps, totals };
  const { gitLog: _log, ...rest } = result;
  return { ...rest, steps, totals };
}

export function bisectJunit(result: BisectResult): string {
  const cases: JUnitCase[] = result.steps.map((s, i) => ({
    classname: `bisect.${s.role}`,
    name: `${String(i + 1).padStart(2, "0")} ${shortOf(s.commit)} ${s.subject}`,
    durationMs: s.durationMs,
    // The culprit's step is the failure CI should show; other bad points are evidence on the way.
    status: s.verdict === "skip" ? "skip" : result.status === "found" && s === result.badStep ? "fail" : "pass",
    message: `${s.verdict}: ${s.reason} (${s.confidence})`,
    output: s.outcomes.map((o) => `${o.kind}${o.runDir ? ` ${o.runDir}` : ""}`).join("\n"),
  }));
  const verdict: JUnitCase = {
    classname: "bisect",
    name: "result",
    durationMs: 0,
    status: result.status === "found" ? "pass" : "fail",
    message: result.status === "found" ? `first bad: ${result.firstBad.commit} ${result.firstBad.subject}` : result.reason,
  };
  return toJUnit([{ name: "bisect", cases: [verdict, ...cases] }]);
}
