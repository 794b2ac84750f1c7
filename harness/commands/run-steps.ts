// listr2 as a view over the steps: one task per step; a failed stage marks its task failed and later
// tasks skipped with its reason; "always" steps (shutdown) still run. Signals are the CLI's, not listr2's.
import { Listr, type ListrTask } from "listr2";
import { isAbort } from "../lib/errors.ts";
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
      let result: StageResult<unknown> | void;
      try {
        result = await step.run(c, (message) => (task.output = message));
      } catch (e) {
        c.error ??= e;
        c.run.recordStage({ stage: step.title.toLowerCase(), status: "fail", durationMs: performance.now() - started, reason: errorLine(e) });
        throw e;
      }
      if (!result) return;
      c.run.recordStage(result);
      const seconds = `${(result.durationMs / 1000).toFixed(1)} s`;
      task.title = `${step.title} (${seconds})${result.reason ? `: ${result.reason}` : ""}`;
      if (result.status === "fail") {
        c.failure ??= result;
        throw new StageFailed(result.reason ?? `${result.stage} failed`);
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
