// The real dependencies, wired in one place. Tests build their own Deps with fakes.
import { createExec } from "./exec.ts";
import type { Deps } from "./stage.ts";

export function realDeps(options: { signal: AbortSignal; logFile?: string; progress?: (m: string) => void }): Deps {
  return {
    exec: createExec({ logFile: options.logFile }),
    signal: options.signal,
    progress: options.progress ?? (() => {}),
  };
}
