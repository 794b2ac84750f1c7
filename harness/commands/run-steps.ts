// listr2 as a view over the steps: one task per step; a failed stage marks its task failed and later
// tasks skipped with its reason; "always" steps (shutdown) still run. Signals are the CLI's, not listr2's.
import { Listr, type ListrTask } from "listr2";
import { isAbort } from "../lib/errors.ts";
import { plainProgress } from "../lib/progress.ts";
import type { StageResult } from "../lib/stage.ts";
import type { Context, Step } from "./context.ts";

/** How progress is shown: a live task list, plain lines, or nothing (the CLI chooses, cli/renderer.ts). */
export type RendererChoice = "default" | "simple" | "silent";

class StageFailed extends Error {}

export async function runSteps(steps: Step[], ctx: Context, renderer: RendererChoice): Promise<void> {
  const tasks: ListrTask<Context>[] = steps.map((step) => ({
    title: step.title,
    skip: (c) => (!step.always && (c.failure || c.error) ? skipReason(c) : false),
    task: async (c, task) => {
      const started = performance.now();
      let returned: StageResult<unknown> | StageResult<unknown>[] | void;
      try {
        const show = (message: string) => (task.output = message);
        returned = await step.run(c, renderer === "default" ? show : plainProgress(show));
      } catch (e) {
        if (c.error === undefined) {
          c.error = e;
          c.errorStage = step.id;
        }
        const kind = c.deps.signal.aborted || isAbort(e) ? "interrupted" : undefined;
        c.run.recordStage({ stage: step.id, status: "fail", durationMs: performance.now() - started, reason: errorLine(e), ...(kind ? { kind } : {}) });
        throw e;
      }
      if (!returned) return;
      const results = Array.isArray(returned) ? returned : [returned];
      for (const r of results) c.run.recordStage(r);
      const failure = results.find((r) => r.status === "fail");
      const shown = failure ?? results[results.length - 1];
      const seconds = `${((performance.now() - started) / 1000).toFixed(1)} s`;
      task.title = `${step.title} (${seconds})${shown?.reason ? `: ${shown.reason}` : ""}`;
      if (failure) {
        c.failure ??= failure;
        throw new StageFailed(failure.reason ?? `${failure.stage} failed`);
      }
    },
  }));
  // listr2's options are typed per renderer; the choice is made at run time.
  const list = new Listr<Context, "default" | "simple" | "silent">(tasks, {
    ctx,
    exitOnError: false,
    concurrent: false,
    registerSignalListeners: false,
    renderer: renderer as "default",
    fallbackRenderer: "simple",
    rendererOptions: { collapseErrors: false, showErrorMessage: true },
  });
  try {
    await list.run();
  } finally {
    ctx.releaseTree?.();
    ctx.qemu?.release?.();
  }
}

function skipReason(c: Context): string {
  if (c.error) return isAbort(c.error) ? "interrupted" : `skipped: ${errorLine(c.error)}`;
  return `skipped: ${c.failure!.stage} failed`;
}

export function errorLine(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
