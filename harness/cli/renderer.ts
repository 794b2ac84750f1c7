// The one place that chooses how progress is shown: a live task list on a terminal, plain lines in CI,
// in a pipe, or when asked to be quiet.
import type { RendererChoice } from "../commands/run-steps.ts";
export type { RendererChoice };

export function chooseRenderer(env: { isTTY: boolean; ci: boolean; quiet: boolean; silent?: boolean }): RendererChoice {
  if (env.silent) return "silent";
  if (env.quiet || env.ci || !env.isTTY) return "simple";
  return "default";
}
