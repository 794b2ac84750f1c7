// Writes report.html into a run folder (from its results.json, manifest.json, console.log and
// decoded-stack.txt) or a bisection folder. Never throws: a report that cannot be made says why in a page
// of its own, and the run's verdict and exit code are untouched.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RunResults } from "../results.ts";
import { html } from "./escape.ts";
import { page } from "./page.ts";
import { renderRunReport } from "./run-page.ts";
import { renderBisectReport, type BisectJson } from "./bisect-page.ts";

export const REPORT_FILE = "report.html";

export function writeRunReport(dir: string): string {
  const file = join(dir, REPORT_FILE);
  try {
    const results = readJson(join(dir, "results.json")) as RunResults;
    const manifest = existsSync(join(dir, "manifest.json")) ? (readJson(join(dir, "manifest.json")) as Record<string, unknown>) : undefined;
    const consolePath = join(dir, "console.log");
    const console = existsSync(consolePath) ? readFileSync(consolePath, "utf8").replace(/\r/g, "").split("\n") : undefined;
    const stackPath = join(dir, "decoded-stack.txt");
    const decodedStack = existsSync(stackPath) ? readFileSync(stackPath, "utf8") : undefined;
    writeFileSync(file, renderRunReport({ results, manifest, console, decodedStack, files: filesIn(dir) }));
  } catch (e) {
    writeFileSync(file, failedPage(dir, e));
  }
  return file;
}

/** The bisection's page; `culpritDiff` is the first bad commit as `git show` printed it (culprit.patch). */
export function writeBisectReport(dir: string, culpritDiff?: string): string {
  const file = join(dir, REPORT_FILE);
  try {
    const results = readJson(join(dir, "results.json")) as BisectJson;
    const manifest = existsSync(join(dir, "manifest.json")) ? (readJson(join(dir, "manifest.json")) as Record<string, unknown>) : undefined;
    writeFileSync(file, renderBisectReport({ dir, results, manifest, culpritDiff, files: filesIn(dir) }));
  } catch (e) {
    writeFileSync(file, failedPage(dir, e));
  }
  return file;
}

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, "utf8"));
}

function filesIn(dir: string): { name: string; size: number }[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => ({ name: d.name, size: statSync(join(dir, d.name)).size }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

function failedPage(dir: string, e: unknown): string {
  const why = e instanceof Error ? e.message : String(e);
  return page(
    "report not made",
    html`<h1>No report for ${dir}</h1><p>The report could not be made: ${why}</p><p>The raw files beside this page (<a href="results.json">results.json</a>, <a href="manifest.json">manifest.json</a>, <a href="console.log">console.log</a>) are complete.</p>`,
  );
}
