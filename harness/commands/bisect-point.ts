// One bisection point: the profile's own pipeline over the tree as it is checked out (no series: the
// commits under test already carry the patches), in a run folder of its own, turned into a PointOutcome.
// The build dir and ccache are the tree's usual ones, so each point is an incremental build.
import { existsSync, readFileSync } from "node:fs";
import type { Job } from "../config/resolve.ts";
import { realDeps } from "../lib/deps.ts";
import { isAbort, UsageError } from "../lib/errors.ts";
import { createRunFolder } from "../lib/run-folder.ts";
import type { StageResult } from "../lib/stage.ts";
import type { Hunt, PointOutcome } from "../stages/bisect/verdict.ts";
import { isFailure, triageLog } from "../stages/triage/triage.ts";
import { errorLine, runSteps, type RendererChoice } from "./run-steps.ts";
import { buildSteps } from "./build-steps.ts";
import { bootSteps } from "./boot-steps.ts";
import { qemuSteps } from "./qemu-steps.ts";
import type { Context } from "./context.ts";
import { finishRun, verdictOf } from "./finish.ts";

export interface PointRequest {
  job: Job;
  treeDir: string;
  hunt: Hunt;
  /** Folder the point's run folder goes in, and a label for its name (e.g. "03-bad-end-1a2b3c4d"). */
  runsDir: string;
  label: string;
  signal: AbortSignal;
  renderer: RendererChoice;
}

export async function evaluatePoint(req: PointRequest): Promise<PointOutcome> {
  const started = performance.now();
  const job: Job = { ...req.job, tree: { kind: "path", path: req.treeDir }, series: [] };
  const run = createRunFolder(req.label, req.runsDir);
  run.set("profile", job.profile);
  const ctx: Context = { job, run, deps: realDeps({ signal: req.signal, logFile: run.file("harness.log") }), treeHeld: true };
  // Hunting a build break needs no boot: the point ends with the build.
  const steps = req.hunt.kind === "build" ? buildSteps : [...buildSteps, ...qemuSteps, ...bootSteps];
  await runSteps(steps, ctx, req.renderer);
  finishRun(ctx, "bisect-step");
  return outcomeOf(ctx, performance.now() - started);
}

/** What a finished run says, in the terms bisection judges by. Usage errors and interrupts are not outcomes. */
export function outcomeOf(ctx: Context, durationMs: number): PointOutcome {
  const common = { runDir: ctx.run.dir, durationMs, built: ctx.build ? !ctx.build.upToDate : false };
  if (ctx.error) {
    if (ctx.error instanceof UsageError || isAbort(ctx.error)) throw ctx.error;
    return { kind: "infra", message: errorLine(ctx.error), ...common };
  }
  const failure = ctx.failure;
  if (failure) return failureOutcome(ctx, failure, common);
  const verdict = verdictOf(ctx);
  if (verdict.exitCode !== 0) {
    // The kernel logged a WARNING or worse outside any test: a boot-time failure.
    const finding = consoleFindings(ctx)[0];
    return { kind: "fail", stage: "boot", signature: finding?.signature ?? verdict.reason ?? "boot", summary: verdict.reason ?? "", ...common };
  }
  return { kind: "pass", ...common };
}

type Common = { runDir: string; durationMs: number; built: boolean };

function failureOutcome(ctx: Context, f: StageResult<unknown>, common: Common): PointOutcome {
  const summary = `${f.stage}: ${f.reason ?? "failed"}`;
  switch (f.stage) {
    case "series":
    case "kconfig":
    case "build":
    case "rootfs": // guest tests that no longer compile against the kernel's uapi headers
      return { kind: "fail", stage: f.stage === "rootfs" ? "build" : f.stage, signature: buildSignature(f), summary, ...common };
    case "boot":
    case "ssh": {
      const finding = consoleFindings(ctx)[0];
      if (finding) return { kind: "fail", stage: "boot", signature: finding.signature, summary, ...common };
      // Nothing on the console at all: QEMU never ran the kernel. That says nothing about the commit.
      if (consoleIsEmpty(ctx)) return { kind: "infra", message: `${summary} (the console stayed empty)`, ...common };
      return { kind: "fail", stage: "boot", signature: `boot: ${f.reason ?? "no ready marker"}`, summary, ...common };
    }
    case "guest": {
      const failedTests = (ctx.tests ?? []).filter((t) => t.status === "fail" || t.status === "error").map((t) => `${t.suite}/${t.name}`);
      return { kind: "fail", stage: "test", signature: `test: ${failedTests.join(", ")}`, summary, failedTests, ...common };
    }
    default:
      return { kind: "infra", message: summary, ...common };
  }
}

/** The first compiler error, as printed; comparing signatures drops its line and column (they move between commits). */
function buildSignature(f: StageResult<unknown>): string {
  const first = (f.details ?? []).find((d) => /\berror\b/i.test(d)) ?? f.reason ?? "";
  return `${f.stage}: ${first.trim()}`;
}

function consoleFindings(ctx: Context) {
  const file = ctx.run.file("console.log");
  return existsSync(file) ? triageLog(readFileSync(file, "utf8")).filter(isFailure) : [];
}

function consoleIsEmpty(ctx: Context): boolean {
  const file = ctx.run.file("console.log");
  return !existsSync(file) || readFileSync(file, "utf8").trim() === "";
}
