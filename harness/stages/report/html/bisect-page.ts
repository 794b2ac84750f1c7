// report.html of a bisection: what was found, the steps on a line from good to bad (verdict, reason,
// time, a link to each step's own report), and the first bad commit with its diff.
import { existsSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { fileHref, html, type Content, type Html } from "./escape.ts";
import { page, seconds, status } from "./page.ts";

interface Outcome {
  kind: string;
  summary?: string;
  signature?: string;
  runDir?: string;
  durationMs?: number;
  built?: boolean;
}

export interface Step {
  commit: string;
  subject: string;
  role: "good-end" | "bad-end" | "step";
  verdict: "good" | "bad" | "skip";
  reason: string;
  outcomes: Outcome[];
  durationMs: number;
  confidence: string;
  builds?: number;
}

/** results.json of a bisection (stages/bisect/report.ts's bisectResultsJson). */
export interface BisectJson {
  status: "found" | "ambiguous" | "endpoints";
  reason?: string;
  firstBad?: { commit: string; subject: string };
  candidates?: { commit: string; subject: string }[];
  hunted?: string;
  confidence?: string;
  steps: Step[];
  badStep?: Step;
  lastGood?: Step;
  totals?: { steps: number; builds: number; durationMs: number };
  warnings?: string[];
}

export interface BisectReportInput {
  dir: string;
  results: BisectJson;
  manifest?: Record<string, unknown>;
  culpritDiff?: string;
  files: { name: string; size: number }[];
}

const DIFF_LINES = 1500;

export function renderBisectReport(input: BisectReportInput): string {
  const r = input.results;
  const ordered = goodToBad(r.steps);
  const culprit = r.status === "found" ? r.firstBad : undefined;
  const body = html`
<header><h1>bisection ${str(input.manifest?.id) ?? basename(input.dir)}</h1>
<div class="meta">${[
    r.hunted && html`<span>hunted: ${r.hunted}</span>`,
    html`<span>${r.steps.length} steps, ${r.totals?.builds ?? r.steps.reduce((n, s) => n + (s.builds ?? 0), 0)} builds, ${seconds(r.totals?.durationMs ?? r.steps.reduce((t, s) => t + s.durationMs, 0))}</span>`,
    str(input.manifest?.startedAt) && html`<span>started ${str(input.manifest?.startedAt)}</span>`,
  ]}</div></header>
${verdict(r)}
<h2 id="steps">Steps, from good to bad</h2>
<div class="steps">${ordered.map((s) => stepCard(input.dir, s, culprit?.commit === s.commit))}</div>
<table><thead><tr><th>#</th><th>role</th><th>commit</th><th>verdict</th><th class="num">time</th><th>reason</th><th>report</th></tr></thead><tbody>
${r.steps.map((s, i) => html`<tr><td class="num">${i + 1}</td><td>${s.role}</td><td><code>${s.commit.slice(0, 12)}</code> ${s.subject}</td><td>${status(s.verdict)}</td><td class="num">${seconds(s.durationMs)}</td><td>${s.reason}<div class="small">${s.confidence}</div></td><td>${stepLinks(input.dir, s)}</td></tr>`)}
</tbody></table>
<div class="small">In the order they ran. Each step's run folder has its own report.</div>
${culpritSection(input)}
<h2 id="files">Files of this bisection</h2><ul class="files">${input.files
    .filter((f) => f.name !== "report.html")
    .map((f) => html`<li><a href="${fileHref(f.name)}">${f.name}</a></li>`)}</ul>
<p class="small">Written by warpdrive-harness from results.json. Nothing on this page is fetched from the network.</p>`;
  return page(`${r.status === "found" ? "first bad" : r.status} — bisection`, body);
}

function verdict(r: BisectJson): Html {
  const warnings = r.warnings?.length ? html`<div><b>warning:</b> ${r.warnings.join("; ")}</div>` : "";
  if (r.status === "found" && r.firstBad) {
    return html`<section class="verdict fail" id="verdict"><div class="word">first bad: <code>${r.firstBad.commit.slice(0, 12)}</code> ${r.firstBad.subject}</div>
<div class="why">${r.badStep?.reason ?? ""}</div><div class="small">${r.confidence ?? ""}</div>${warnings}</section>`;
  }
  if (r.status === "ambiguous") {
    return html`<section class="verdict other" id="verdict"><div class="word">not found: ${r.reason ?? ""}</div>
<ul>${(r.candidates ?? []).map((c) => html`<li><code>${c.commit.slice(0, 12)}</code> ${c.subject}</li>`)}</ul>${warnings}</section>`;
  }
  return html`<section class="verdict other" id="verdict"><div class="word">stopped: ${r.reason ?? ""}</div>${warnings}</section>`;
}

/**
 * The steps along history: git bisect narrows in on the first bad commit, so a later good step lies
 * after an earlier one and a later bad step before an earlier one. Good end, good steps as they ran,
 * skipped ones, bad steps in reverse, bad end.
 */
export function goodToBad(steps: Step[]): Step[] {
  const good = steps.filter((s) => s.verdict === "good");
  const bad = steps.filter((s) => s.verdict === "bad");
  const skip = steps.filter((s) => s.verdict === "skip");
  const byRole = (role: Step["role"]) => (s: Step) => (s.role === role ? -1 : 0);
  return [
    ...[...good].sort((a, b) => byRole("good-end")(a) - byRole("good-end")(b)),
    ...skip,
    ...[...bad].reverse().sort((a, b) => byRole("bad-end")(b) - byRole("bad-end")(a)),
  ];
}

function stepCard(dir: string, s: Step, culprit: boolean): Html {
  return html`<div class="step ${s.verdict}${culprit ? " culprit" : ""}"><div>${status(s.verdict)} <span class="small">${s.role}</span></div>
<div><code>${s.commit.slice(0, 12)}</code></div><div class="small">${s.subject}</div>
<div class="small">${seconds(s.durationMs)}${culprit ? " · first bad" : ""}</div><div>${stepLinks(dir, s)}</div></div>`;
}

function stepLinks(dir: string, s: Step): Content {
  return s.outcomes
    .filter((o) => o.runDir)
    .map((o, i) => html`${i ? " " : ""}<a href="${fileHref(stepPath(dir, o.runDir!))}/report.html">${s.outcomes.length > 1 ? `run ${i + 1}` : "report"}</a>`);
}

/** A step's run folder relative to the bisection's (steps/<name>, also when the folder was moved). */
function stepPath(dir: string, runDir: string): string {
  const inSteps = join("steps", basename(runDir));
  if (existsSync(join(dir, inSteps)) || runDir.includes("/steps/")) return inSteps;
  return relative(dir, runDir);
}

function culpritSection(input: BisectReportInput): Content {
  const r = input.results;
  if (r.status !== "found" || !r.firstBad) return "";
  const bad = r.badStep?.outcomes.find((o) => o.runDir)?.runDir;
  const good = r.lastGood?.outcomes.find((o) => o.runDir)?.runDir;
  return html`<h2 id="culprit">The first bad commit</h2>
<div class="card failed"><div><code>${r.firstBad.commit}</code></div><div><b>${r.firstBad.subject}</b></div>
<div>hunted failure: <code>${r.hunted ?? ""}</code></div>
<div>evidence: ${bad ? html`<a href="${fileHref(stepPath(input.dir, bad))}/report.html">the bad step's report</a>` : ""}${good ? html`, <a href="${fileHref(stepPath(input.dir, good))}/report.html">the last good step's report</a>` : ""}</div></div>
${input.culpritDiff ? diff(input.culpritDiff) : html`<div class="small">no diff (the tree was not at hand when the report was written)</div>`}`;
}

function diff(text: string): Html {
  const lines = text.replace(/\n$/, "").split("\n");
  const rows = lines.slice(0, DIFF_LINES).map((l) => html`<span class="${lineClass(l)}">${l}</span>`);
  return html`<pre class="diff">${rows}</pre><div class="small">${lines.length > DIFF_LINES ? `${lines.length - DIFF_LINES} more lines in ` : ""}<a href="culprit.patch">culprit.patch</a></div>`;
}

function lineClass(l: string): string {
  if (l.startsWith("diff --git")) return "file";
  if (l.startsWith("@@")) return "hunk";
  if (l.startsWith("+") && !l.startsWith("+++")) return "add";
  if (l.startsWith("-") && !l.startsWith("---")) return "del";
  return "ctx";
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v ? v : undefined;
}
