// One bisection point: the profile's own pipeline over the tree as it is checked out (no series: the
// commits under test already carry the patches), in a run folder of its own, turned into a PointOutcome.
// The build dir and ccache are the tree's usual ones, so each point is an incremental build.
import type { Job } from "../config/resolve.ts";
import { realDeps } from "../lib/deps.ts";
import { UsageError } from "../lib/errors.ts";
import { createRunFolder } from "../lib/run-folder.ts";
import { pointOutcome, type Hunt, type PointOutcome } from "../stages/bisect/verdict.ts";
import { runSteps, type RendererChoice } from "./run-steps.ts";
import { buildSteps } from "./build-steps.ts";
import { bootSteps } from "./boot-steps.ts";
import { qemuSteps } from "./qemu-steps.ts";
import type { RunManifest } from "./manifest.ts";
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
  const run = createRunFolder<RunManifest>(req.label, req.runsDir);
  run.set("profile", job.profile);
  const ctx: Context = { job, run, deps: realDeps({ signal: req.signal, logFile: run.file("harness.log") }), treeHeld: true };
  // Hunting a build break needs no boot: the point ends with the build.
  const steps = req.hunt.kind === "build" ? buildSteps : [...buildSteps, ...qemuSteps, ...bootSteps];
  await runSteps(steps, ctx, req.renderer);
  finishRun(ctx, "bisect-step");
  return outcomeOf(ctx, performance.now() - started);
}

/** What a finished run says, in the terms bisection judges by: its one outcome. Usage errors are rethrown. */
export function outcomeOf(ctx: Context, durationMs: number): PointOutcome {
  const common = { runDir: ctx.run.dir, durationMs, built: ctx.build ? !ctx.build.upToDate : false };
  if (ctx.error instanceof UsageError) throw ctx.error;
  return pointOutcome(verdictOf(ctx).outcome, common);
}
