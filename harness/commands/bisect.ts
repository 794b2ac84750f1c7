// The bisect command: over a tree's history (--good/--bad) or over the patches of the job's series (one
// commit per patch), each point judged by the profile's own pipeline. git bisect picks the points; the
// engine judges them; this file only wires the two and writes the evidence.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { resolveJob, type Overrides } from "../config/resolve.ts";
import { executorFor } from "../executors/index.ts";
import { realDeps } from "../lib/deps.ts";
import { ExitCode, UsageError } from "../lib/errors.ts";
import { createRunFolder, type RunFolder } from "../lib/run-folder.ts";
import { bisect, type BisectResult } from "../stages/bisect/engine.ts";
import { bisectJunit, bisectResultsJson, bisectSummary } from "../stages/bisect/report.ts";
import { writeBisectHtml } from "../stages/report/html/bisect-write.ts";
import { judgePoint } from "../stages/bisect/judge.ts";
import { gitBisectExitCode } from "../stages/bisect/step-exit.ts";
import { gitOut } from "../lib/git.ts";
import type { Hunt } from "../stages/bisect/verdict.ts";
import { runSteps, type RendererChoice } from "./run-steps.ts";
import { buildSteps, holdTree } from "./build-steps.ts";
import { evaluatePoint } from "./bisect-point.ts";
import { type Context, need } from "./context.ts";

export interface BisectOptions {
  good?: string;
  bad?: string;
  hunt: Hunt;
  runs: number;
  infraRetries: number;
  compareSignatures: boolean;
}

/** "auto", "build", "boot", "test" or "test:<suite/test>". */
export function parseHunt(value: string): Hunt {
  if (value === "auto" || value === "build" || value === "boot") return { kind: value };
  const m = /^test(?::(.+))?$/.exec(value);
  if (m) return m[1] ? { kind: "test", test: m[1] } : { kind: "test" };
  throw new UsageError(`--hunt ${value}: expected auto, build, boot, test or test:<suite/test>`);
}

export async function runBisectCommand(
  overrides: Overrides,
  options: BisectOptions,
  signal: AbortSignal,
  renderer: RendererChoice,
  print: (line: string) => void,
): Promise<number> {
  const job = resolveJob(overrides);
  const run = createRunFolder("bisect");
  run.set("profile", job.profile);
  run.set("bisect", { ...options, hunt: options.hunt });
  const deps = realDeps({ signal, logFile: run.file("harness.log"), progress: (m) => print(`bisect: ${m}`) });
  const treeMode = options.good !== undefined || options.bad !== undefined;
  if (treeMode && (!options.good || !options.bad)) throw new UsageError("a tree bisection needs both --good and --bad");

  // The tree, and in patch mode the series applied one commit per patch: the usual first steps.
  const ctx: Context = { job: treeMode ? { ...job, series: [] } : job, run, deps };
  const setup = buildSteps.filter((s) => ["Host", "Tree", "Series"].includes(s.title));
  await runSteps(setup, ctx, renderer);
  ctx.releaseTree?.();
  if (ctx.error) throw ctx.error;
  if (ctx.failure) {
    print(`bisect: cannot start: ${ctx.failure.stage}: ${ctx.failure.reason}`);
    for (const d of ctx.failure.details ?? []) print(`  ${d}`);
    return ExitCode.failure;
  }
  const tree = need(ctx, "tree");
  let good: string;
  let bad: string;
  if (treeMode) {
    good = options.good!;
    bad = options.bad!;
  } else {
    const series = need(ctx, "series");
    if (series.patches.length === 0) throw new UsageError("a patch-level bisection needs a series (--series NAME, or one in the profile)");
    const range = bisectedPatches(series.patches, series.base);
    good = range.good;
    bad = series.head;
    const under = range.under.length ? ` + ${range.under.join(" + ")}` : "";
    print(`bisect: ${range.count} patches of ${range.series} on ${tree.description}${under}`);
  }

  // Held for the whole bisection: git bisect checks out commit after commit in this tree.
  const release = await holdTree(tree.path, signal, (m) => print(`bisect: ${m}`));
  let result: BisectResult;
  try {
    const runsDir = run.file("steps");
    let n = 0;
    result = await bisect(
      {
        treeDir: tree.path,
        good,
        bad,
        hunt: options.hunt,
        runs: options.runs,
        // a lab runs the repeats of a point at once; the local QEMU one after another
        parallel: executorFor(job.machine.executor).concurrent,
        infraRetries: options.infraRetries,
        compareSignatures: options.compareSignatures,
        logFile: run.file("git-bisect.log"),
      },
      (point) =>
        evaluatePoint({
          job,
          treeDir: tree.path,
          hunt: options.hunt,
          runsDir,
          label: `${String(++n).padStart(2, "0")}-${point.role}-${point.commit.slice(0, 10)}-run${point.attempt}`,
          signal,
          renderer: renderer === "default" ? "simple" : renderer,
        }),
      deps,
    );
  } finally {
    release();
  }
  const code = report(run, result, print, tree.path);
  await writeBisectHtml(run.dir, result.status === "found" ? result.firstBad.commit : undefined, tree.path, deps.exec);
  print(`report: ${run.file("report.html")}`);
  return code;
}

/**
 * syzkaller's check: when the first bad commit built the very same Image as the good point before it, its
 * code cannot be what broke; the failure is flaky or comes from outside the kernel.
 */
export function identicalKernelWarning(result: BisectResult): string | undefined {
  if (result.status !== "found" || !result.lastGood) return undefined;
  const image = (step: { outcomes: { runDir?: string }[] }) => {
    const dir = step.outcomes.find((o) => o.runDir)?.runDir;
    const manifest = dir && existsSync(join(dir, "manifest.json")) ? JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) : undefined;
    return manifest?.kernel?.imageSha256 as string | undefined;
  };
  const [bad, good] = [image(result.badStep), image(result.lastGood)];
  if (!bad || bad !== good) return undefined;
  return `the first bad commit built the same Image as the last good point (sha256 ${bad.slice(0, 16)}): its code cannot be the cause; the failure is flaky or outside the kernel (try --runs 3)`;
}

function report(run: RunFolder, result: BisectResult, print: (l: string) => void, treeDir: string): number {
  const warning = identicalKernelWarning(result);
  const json = bisectResultsJson(result) as Record<string, unknown>;
  writeFileSync(run.file("results.json"), JSON.stringify(warning ? { ...json, warnings: [warning] } : json, null, 2) + "\n");
  if (warning) print(`warning: ${warning}`);
  writeFileSync(run.file("junit.xml"), bisectJunit(result));
  if (result.status !== "endpoints") writeFileSync(run.file("bisect.log"), result.gitLog);
  const summary = bisectSummary(result);
  writeFileSync(run.file("summary.txt"), summary.join("\n") + "\n");
  for (const line of summary) print(line);
  if (result.status !== "endpoints") print(`replay: (cd ${treeDir} && git bisect replay ${run.file("bisect.log")})`);
  print(`run folder: ${run.dir}`);
  run.set("result", { status: result.status, ...(result.status === "found" ? { firstBad: result.firstBad } : {}) });
  return result.status === "found" && !warning ? ExitCode.ok : ExitCode.failure;
}

export interface StepOptions {
  hunt: Hunt;
  runs: number;
  infraRetries: number;
  /** Only a failure with this signature is bad; another one is skip. */
  signature?: string;
}

/**
 * The step command for `git bisect run`: judge the tree as it is checked out, with the same rules as the
 * bisect command, and answer 0 (good), 1 (bad) or 125 (skip). The CLI maps every other way out to 125.
 */
export async function runBisectStep(
  overrides: Overrides,
  options: StepOptions,
  signal: AbortSignal,
  renderer: RendererChoice,
  print: (line: string) => void,
): Promise<0 | 1 | 125> {
  const job = resolveJob({ ...overrides, series: [], adHoc: [] });
  if (job.tree.kind !== "path") throw new UsageError("bisect-step judges the tree git bisect checked out: give it with --tree PATH");
  const treeDir = job.tree.path;
  const run = createRunFolder("bisect-step");
  const head = await gitOut(realDeps({ signal }).exec, treeDir, ["rev-parse", "HEAD"]);
  const release = await holdTree(treeDir, signal, (m) => print(`bisect-step: ${m}`));
  try {
    const judgement = await judgePoint(
      (attempt) =>
        evaluatePoint({ job, treeDir, hunt: options.hunt, runsDir: run.file("runs"), label: `${head.slice(0, 10)}-run${attempt}`, signal, renderer }),
      {
        hunt: options.hunt,
        hunted: options.signature,
        runs: options.runs,
        parallel: executorFor(job.machine.executor).concurrent,
        infraRetries: options.infraRetries,
        signal,
      },
    );
    const summary = { commit: head, verdict: judgement.verdict, reason: judgement.reason, confidence: judgement.confidence, outcomes: judgement.outcomes };
    writeFileSync(run.file("results.json"), JSON.stringify(summary, null, 2) + "\n");
    print(`bisect-step: ${head.slice(0, 12)} ${judgement.verdict} (${judgement.confidence}): ${judgement.reason}`);
    const bad = judgement.outcomes.find((o) => o.kind === "fail");
    if (bad?.kind === "fail") print(`bisect-step: signature: ${bad.signature}`);
    print(`run folder: ${run.dir}`);
    return gitBisectExitCode(judgement.verdict);
  } finally {
    release();
  }
}

/**
 * A patch-level bisection covers the last series applied: the one under test (--series, an mbox, the profile's
 * last). The series it comes after (`after:`, or listed before it) are its base, as the tree is: they are known
 * to a developer bisecting their own series, and each of their patches would cost a point for nothing.
 */
export function bisectedPatches(patches: { series: string; commit: string }[], base: string): { good: string; count: number; series: string; under: string[] } {
  const series = patches.at(-1)!.series;
  const first = patches.findIndex((p) => p.series === series);
  const under = [...new Set(patches.slice(0, first).map((p) => p.series))];
  return { good: first > 0 ? patches[first - 1]!.commit : base, count: patches.length - first, series, under };
}
