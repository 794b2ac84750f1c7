// report.html of one run: the verdict and why, the stages as a timeline, failures first (the kernel's
// report, the decoded stack, the console around it), every test with its TAP points and kernel log, SMMU
// events with their tests, the patches, the benchmark charts, and links to the raw files. Pure: it reads
// what results.json, manifest.json and the console say, and returns a page.
import { failureKindOfExitCode, type Outcome } from "../../../lib/outcome.ts";
import type { RunResults } from "../results.ts";
import { parseTap, type TapPoint } from "../tap.ts";
import { benchOf, fmt, headlineFigures, pathName } from "./bench.ts";
import { benchCharts } from "./charts.ts";
import { fileHref, html, type Content, type Html } from "./escape.ts";
import { page, seconds, status } from "./page.ts";

type Test = RunResults["tests"][number];

export interface RunReportInput {
  results: RunResults;
  manifest?: Record<string, unknown>;
  /** console.log as lines (only the lines around findings are shown). */
  console?: string[];
  decodedStack?: string;
  /** Files beside the report, linked. */
  files: { name: string; size: number }[];
}

/** Lines of the console before a report's first line, and at most this many of the report. */
const BEFORE = 8;
const REPORT_LINES = 60;
const KERNEL_LOG_LINES = 80;
/** Files that are not worth a link (the run's private key). */
const HIDDEN = new Set(["id_ed25519", "report.html"]);

export function renderRunReport(input: RunReportInput): string {
  const r = input.results;
  const outcome = outcomeOf(r);
  const failing = r.tests.filter((t) => t.status === "fail" || t.status === "error");
  const bench = benchOf(r.tests);
  const body = html`
<header>
<h1>${commandOf(input.manifest)} run ${r.run}</h1>
<div class="meta">${[
    r.kernelRelease && html`<span>kernel ${r.kernelRelease}</span>`,
    r.machine && html`<span>machine ${r.machine.name} (${r.machine.executor})</span>`,
    str(input.manifest?.startedAt) && html`<span>started ${str(input.manifest?.startedAt)}</span>`,
    html`<span>${seconds(r.stages.reduce((t, s) => t + (s.durationMs ?? 0), 0))} in all</span>`,
  ]}</div>
</header>
${verdictBox(outcome, r)}
${headline(bench)}
<h2 id="timeline">Stages</h2>
${timeline(r)}
${failures(input, outcome, failing)}
${tests(r.tests, failing)}
${smmu(r)}
${patches(r)}
${benchSection(bench)}
${rawFiles(input.files)}
<p class="small">Written by warpdrive-harness from results.json and manifest.json. Nothing on this page is fetched from the network.</p>`;
  return page(`${outcome.kind === "pass" ? "PASS" : "FAIL"} ${r.run}`, body);
}

/** results.json before the typed outcome: status, exit code and reason. */
function outcomeOf(r: RunResults): Outcome {
  if (r.outcome) return r.outcome;
  if (r.status === "pass") return { kind: "pass" };
  const kind = failureKindOfExitCode(r.exitCode);
  const failedStage = r.stages.find((s) => s.status === "fail");
  return {
    kind,
    stage: failedStage?.stage ?? "host",
    reason: r.reason ?? "failed",
    details: failedStage?.details ?? [],
    signature: { type: "message", text: r.reason ?? "" },
  };
}

function verdictBox(outcome: Outcome, r: RunResults): Html {
  if (outcome.kind === "pass") {
    const n = r.tests.filter((t) => t.status === "pass").length;
    return html`<section class="verdict pass" id="verdict"><div class="word">PASS (exit 0)</div>
<div class="why">${n} of ${r.tests.length} guest tests passed; every stage passed or was skipped.</div></section>`;
  }
  const cls = outcome.kind === "regression" ? "fail" : "other";
  const sig = outcome.signature;
  return html`<section class="verdict ${cls}" id="verdict"><div class="word">FAIL (exit ${r.exitCode}): ${outcome.kind} in ${outcome.stage}</div>
<div class="why">${outcome.reason}</div>
${outcome.failedTests?.length ? html`<div>failed: ${outcome.failedTests.map((t, i) => html`${i ? ", " : ""}<a href="#test-${anchor(t)}">${t}</a>`)}</div>` : ""}
${sig.type === "crash" ? html`<div class="small">signature: <code>${sig.text}</code></div>` : ""}
${outcome.details.length ? html`<details><summary>details (${outcome.details.length} lines)</summary><pre>${outcome.details.slice(0, 60).join("\n")}</pre></details>` : ""}
</section>`;
}

function headline(bench: ReturnType<typeof benchOf>): Content {
  const lines = headlineFigures(bench);
  if (lines.length === 0) return "";
  return html`<div class="figures">${lines.map((l) => html`<div class="figure"><div class="k">headline</div><div>${l.replace(/^bench: /, "")}</div></div>`)}</div>`;
}

function timeline(r: RunResults): Html {
  const total = r.stages.reduce((t, s) => t + (s.durationMs ?? 0), 0) || 1;
  const shown = r.stages.filter((s) => (s.durationMs ?? 0) > 0);
  return html`<div class="timeline" role="img" aria-label="stage durations">${shown.map(
    (s) =>
      html`<div class="${s.status}" style="flex:${Math.max(0.5, (100 * s.durationMs) / total).toFixed(2)} 0 0" title="${s.stage} ${seconds(s.durationMs)}">${s.stage} ${seconds(s.durationMs)}</div>`,
  )}</div>
<table><thead><tr><th>stage</th><th>status</th><th class="num">time</th><th>what it said</th></tr></thead><tbody>
${r.stages.map((s) => html`<tr><td>${s.stage}</td><td>${status(s.status)}</td><td class="num">${seconds(s.durationMs)}</td><td>${s.reason ?? ""}${s.logFile ? html` <a href="${fileHref(base(s.logFile))}">${base(s.logFile)}</a>` : ""}</td></tr>`)}
</tbody></table>`;
}

function failures(input: RunReportInput, outcome: Outcome, failing: Test[]): Content {
  if (outcome.kind === "pass") return "";
  const r = input.results;
  const cards: Html[] = [];
  const failedStage = r.stages.find((s) => s.status === "fail" && s.stage !== "guest");
  if (failedStage) {
    cards.push(html`<div class="card failed"><h3>${failedStage.stage}: ${failedStage.reason ?? "failed"}</h3>
${failedStage.details?.length ? html`<pre>${failedStage.details.slice(0, 80).join("\n")}</pre>` : ""}
${failedStage.logFile ? html`<div>log: <a href="${fileHref(base(failedStage.logFile))}">${base(failedStage.logFile)}</a></div>` : ""}</div>`);
  }
  // The kernel's report outside any test (boot, shutdown) that the verdict names.
  const sig = outcome.signature;
  const consoleLine = sig.type === "crash" ? sig.consoleLine : undefined;
  const outside = r.consoleFindings.filter((f) => f.severity !== "info" && !failing.some((t) => t.findings.some((x) => x.lineIndex === f.lineIndex)));
  for (const f of outside) {
    cards.push(html`<div class="card failed"><h3>${f.title} (console line ${f.lineIndex + 1}, outside any test)</h3>
${consoleAround(input.console, f.lineIndex, f.title)}${f.lineIndex === consoleLine || outside.length === 1 ? decoded(input.decodedStack) : ""}</div>`);
  }
  for (const t of failing) {
    const report = t.findings.find((f) => f.severity !== "info");
    cards.push(html`<div class="card failed" id="failure-${anchor(`${t.suite}/${t.name}`)}"><h3>${status(t.status)} <a href="#test-${anchor(`${t.suite}/${t.name}`)}">${t.suite}/${t.name}</a>: ${t.reason ?? ""}</h3>
${t.kernelReport?.length ? html`<div>the kernel's report:</div><pre>${t.kernelReport.slice(0, REPORT_LINES).join("\n")}</pre>` : ""}
${t.kernelDied ? decoded(input.decodedStack, t.kernelReport) : ""}
${report ? html`<div>the console around it:</div>${consoleAround(input.console, report.lineIndex, report.title)}` : ""}
${(t.smmuEvents ?? [])
  .filter((e) => !e.expected)
  .slice(0, 5)
  .map((e) => html`<div>unexpected SMMU event: <code>${e.description}</code> (console line ${e.lineIndex + 1})</div>`)}
</div>`);
  }
  if (cards.length === 0) return "";
  return html`<h2 id="failures">Failures</h2>${cards}`;
}

/** The decoded stack, unless the report shown above it already has its lines (then only the link). */
function decoded(text: string | undefined, shown: string[] = []): Content {
  if (!text?.trim()) return "";
  const lines = text.split("\n").filter((l) => l.trim());
  if (shown.length && lines.every((l) => shown.some((s) => s.trim() === l.trim()))) {
    return html`<div class="small">decoded stack as above, also in <a href="decoded-stack.txt">decoded-stack.txt</a></div>`;
  }
  return html`<div>decoded stack (<a href="decoded-stack.txt">decoded-stack.txt</a>):</div><pre>${text.split("\n").slice(0, REPORT_LINES).join("\n")}</pre>`;
}

/** The console from a few lines before a report to its end (or REPORT_LINES), the report's first line marked. */
function consoleAround(lines: string[] | undefined, at: number, title?: string): Content {
  if (!lines || at < 0 || at >= lines.length) return "";
  const index = locate(lines, at, title);
  const from = Math.max(0, index - BEFORE);
  const to = Math.min(lines.length, index + REPORT_LINES);
  const rows = lines.slice(from, to).map((l, i) => {
    const n = from + i;
    const text = `${String(n + 1).padStart(5)}  ${l}`;
    return html`${i ? "\n" : ""}<span class="${n === index ? "hl" : n < index ? "ctx" : "rep"}">${text}</span>`;
  });
  return html`<pre class="console">${rows}</pre><div class="small">lines ${from + 1}–${to} of <a href="console.log">console.log</a> (${lines.length} lines)</div>`;
}

/**
 * The line a finding names, found by its text near its index: console.log may begin with lines the
 * triage never saw (the QEMU command line), which shifts the index by one or two.
 */
function locate(lines: string[], index: number, title: string | undefined): number {
  if (!title) return index;
  for (const d of [0, 1, -1, 2, -2, 3, -3]) if (lines[index + d]?.includes(title)) return index + d;
  return index;
}

function tests(all: Test[], failing: Test[]): Content {
  if (all.length === 0) return "";
  const ordered = [...failing, ...all.filter((t) => !failing.includes(t))];
  return html`<h2 id="tests">Guest tests (${all.filter((t) => t.status === "pass").length} of ${all.length} passed)</h2>
<table><thead><tr><th>status</th><th>test</th><th class="num">time</th><th>reason</th></tr></thead><tbody>
${ordered.map((t) => html`<tr><td>${status(t.status)}</td><td><a href="#test-${anchor(`${t.suite}/${t.name}`)}">${t.suite}/${t.name}</a></td><td class="num">${seconds(t.durationMs)}</td><td>${t.reason ?? ""}</td></tr>`)}
</tbody></table>
${ordered.map((t) => testDetails(t, failing.includes(t)))}`;
}

function testDetails(t: Test, open: boolean): Html {
  const tap = t.output ? parseTap(t.output) : undefined;
  const points = tap?.points ?? [];
  const log = t.kernelLog ?? [];
  return html`<details class="test" id="test-${anchor(`${t.suite}/${t.name}`)}" ${open ? html`open` : ""}><summary>${status(t.status)} <b>${t.suite}/${t.name}</b> — ${points.length} TAP points, ${log.length} kernel log lines${t.smmuEvents?.length ? `, ${t.smmuEvents.length} SMMU events` : ""}${t.exitCode !== null && t.exitCode !== undefined ? `, exit ${t.exitCode}` : ""}</summary>
${points.length ? html`<table class="tap"><tbody>${points.map((p) => tapRow(p, 0))}</tbody></table>` : html`<div class="small">no TAP points${t.output ? "" : " (no output)"}</div>`}
${tap?.problems.length ? html`<div class="small">TAP: ${tap.problems.join("; ")}</div>` : ""}
${log.length ? html`<div>kernel log while it ran:</div><pre>${log.slice(0, KERNEL_LOG_LINES).join("\n")}</pre>${log.length > KERNEL_LOG_LINES ? html`<div class="small">${log.length - KERNEL_LOG_LINES} more lines in <a href="junit.xml">junit.xml</a> and <a href="results.json">results.json</a></div>` : ""}` : ""}
</details>`;
}

function tapRow(p: TapPoint, depth: number): Html {
  const st = p.status === "pass" ? "ok" : p.status === "fail" ? "fail" : "skip";
  const diag = p.status === "fail" && p.diagnostics.length ? html`<pre>${p.diagnostics.slice(0, 20).join("\n")}</pre>` : "";
  return html`<tr><td style="padding-left:${8 + depth * 18}px"><span class="st ${st}">${p.status === "pass" ? "ok" : p.status}</span> ${p.number}</td><td>${p.name}${p.directive ? html` <span class="small"># ${p.directive}</span>` : ""}${diag}</td></tr>${(p.subtests ?? []).map((s) => tapRow(s, depth + 1))}`;
}

function smmu(r: RunResults): Content {
  const events = r.tests.flatMap((t) => (t.smmuEvents ?? []).map((e) => ({ ...e, test: e.test ?? `${t.suite}/${t.name}` })));
  const report = r.smmu;
  if (!report?.events && events.length === 0) return "";
  const attributed = Object.entries(report?.attributed ?? {});
  return html`<h2 id="smmu">SMMU events (${report?.events ?? events.length})</h2>
<div>${attributed.length ? html`attributed to tests: ${attributed.map(([t, n], i) => html`${i ? ", " : ""}<a href="#test-${anchor(t)}">${t}</a> (${n})`)}` : "none attributed to tests"}${
    report?.suppressed.length ? html`; ${report.suppressed.reduce((n, s) => n + s.count, 0)} suppressed by the kernel's rate limit` : ""
  }${report?.burstExhaustedAt.length ? html`; bursts printed in full at ${report.burstExhaustedAt.map((t) => `${t.toFixed(1)} s`).join(", ")} (more may be missing)` : ""}</div>
${report?.unexpected.length ? html`<div class="card failed"><b>not expected by any test:</b><ul>${report.unexpected.map((u) => html`<li><code>${u.description}</code> ${u.where} (console line ${u.line})</li>`)}</ul></div>` : ""}
<table><thead><tr><th>test</th><th>event</th><th>expected</th><th class="num">console line</th></tr></thead><tbody>
${events.slice(0, 200).map((e) => html`<tr><td>${e.test}</td><td><code>${e.description}</code></td><td>${status(e.expected ? "ok" : "fail")}</td><td class="num">${e.lineIndex + 1}</td></tr>`)}
</tbody></table>${events.length > 200 ? html`<div class="small">${events.length - 200} more in results.json</div>` : ""}`;
}

function patches(r: RunResults): Content {
  const sets = [
    { title: "Kernel series", patches: r.patches ?? [], checkpatch: r.checkpatch ?? [] },
    { title: "QEMU series", patches: r.qemu?.patches ?? [], checkpatch: r.qemu?.checkpatch ?? [] },
  ].filter((s) => s.patches.length > 0);
  if (sets.length === 0) return "";
  return html`<h2 id="patches">Patches</h2>${sets.map(
    (
      s,
    ) => html`<h3>${s.title} (${s.patches.length})</h3><table><thead><tr><th>#</th><th>subject</th><th>commit</th><th>checkpatch</th><th>from</th></tr></thead><tbody>
${s.patches.map((p, i) => {
  const cp =
    s.checkpatch.find((c) => base(c.file) === base(provenanceFile(p.provenance) ?? "") || c.file.endsWith(`/${base(provenanceFile(p.provenance) ?? "-")}`)) ??
    s.checkpatch[i];
  const verdict = cp ? (cp.errors ? "fail" : cp.warnings || cp.checks ? "warn" : "pass") : "skip";
  return html`<tr><td class="num">${i + 1}</td><td>${p.subject}<div class="small">${p.series} · sha256 ${p.sha256?.slice(0, 16)}</div></td><td><code>${p.commit?.slice(0, 12)}</code></td><td>${status(verdict)} ${cp ? `${cp.errors} errors, ${cp.warnings} warnings, ${cp.checks} checks` : "not checked"}${cp?.messages.length ? html`<details><summary>messages</summary><pre>${cp.messages.slice(0, 30).join("\n")}</pre></details>` : ""}</td><td>${provenanceText(p.provenance)}${attestations(p.attestations)}</td></tr>`;
})}
</tbody></table>`,
  )}`;
}

function provenanceFile(p: unknown): string | undefined {
  const v = p as { kind?: string; file?: string } | undefined;
  return v?.kind === "file" ? v.file : undefined;
}

function provenanceText(p: unknown): Content {
  const v = (p ?? {}) as Record<string, string>;
  switch (v.kind) {
    case "file":
      return html`file <code>${base(v.file ?? "")}</code>`;
    case "mbox":
      return html`mbox <code>${base(v.mbox ?? "")}</code> &lt;${v.messageId}&gt; ${v.part}`;
    case "lore":
      return html`lore &lt;${v.messageId}&gt; ${v.part}`;
    case "git":
      return html`git ${v.repo} <code>${(v.commit ?? "").slice(0, 12)}</code>`;
    default:
      return "";
  }
}

function attestations(a: unknown): Content {
  const list = Array.isArray(a) ? (a as Record<string, unknown>[]) : [];
  if (list.length === 0) return "";
  return html`<div class="small">${list.map((x, i) => html`${i ? "; " : ""}${String(x.method ?? x.kind ?? "signature")} ${String(x.result ?? x.status ?? "")} ${String(x.identity ?? x.domain ?? "")}`)}</div>`;
}

function benchSection(bench: ReturnType<typeof benchOf>): Content {
  if (bench.all.length === 0) return "";
  const charts = bench.points.length || bench.procs.length ? benchCharts(bench) : [];
  const speedups = bench.speedups;
  return html`<h2 id="bench">Benchmark</h2>
<div class="charts">${charts.map((c) => html`<figure class="chart" aria-label="${c.title}">${c.svg}</figure>`)}</div>
${
  speedups.length
    ? html`<h3>Speed-up against AF_ALG</h3><table><thead><tr><th>size</th><th>in flight</th><th class="num">requests/s</th><th class="num">p50</th></tr></thead><tbody>
${[...new Set(speedups.map((s) => `${s.size}|${s.depth ?? ""}`))].map((k) => {
  const [size, depth] = k.split("|");
  const get = (kind: string) => speedups.find((s) => s.size === size && String(s.depth ?? "") === depth && s.kind === kind)?.value;
  const x = (v: number | undefined) => (v === undefined ? "" : `${v.toFixed(2)}x`);
  return html`<tr><td>${size}</td><td>${depth || "1"}</td><td class="num">${x(get("throughput"))}</td><td class="num">${x(get("p50"))}</td></tr>`;
})}</tbody></table>`
    : ""
}
<details><summary>every figure (${bench.all.length})</summary><table><thead><tr><th>test</th><th>figure</th><th class="num">value</th><th>unit</th></tr></thead><tbody>
${bench.all.map((m) => html`<tr><td>${m.test}</td><td><code>${m.name}</code></td><td class="num">${fmt(m.value)}</td><td>${m.unit}</td></tr>`)}
</tbody></table></details>
${bench.points.length ? html`<div class="small">paths: ${[...new Set(bench.points.map((p) => pathName(p.path, p.depth)))].join(", ")}</div>` : ""}`;
}

function rawFiles(files: { name: string; size: number }[]): Content {
  const shown = files.filter((f) => !HIDDEN.has(f.name));
  if (shown.length === 0) return "";
  return html`<h2 id="files">Files of this run</h2><ul class="files">${shown.map(
    (f) => html`<li><a href="${fileHref(f.name)}">${f.name}</a> <span class="small">${size(f.size)}</span></li>`,
  )}</ul>`;
}

function size(n: number): string {
  return n < 1024 ? `${n} B` : n < 1 << 20 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / (1 << 20)).toFixed(1)} MiB`;
}

function commandOf(manifest: Record<string, unknown> | undefined): string {
  return str(manifest?.command) ?? "harness";
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v ? v : undefined;
}

function base(path: string): string {
  return path.split("/").pop() ?? path;
}

/** An id for a test: letters, digits and dashes only (the name itself is shown escaped). */
export function anchor(name: string): string {
  let h = 0;
  for (const c of name) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return `${name.replace(/[^A-Za-z0-9]+/g, "-").slice(0, 60)}-${h.toString(36)}`;
}
