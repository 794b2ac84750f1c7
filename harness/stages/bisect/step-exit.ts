// The only exit codes a `git bisect run` step command may return: 0 good, 1 bad, 125 skip. git treats
// anything from 128 up as "abort the bisection", which a panic or a signal must never cause.
import type { Verdict } from "./verdict.ts";

export const GitBisectExit = { good: 0, bad: 1, skip: 125 } as const;

export function gitBisectExitCode(verdict: Verdict): 0 | 1 | 125 {
  return GitBisectExit[verdict];
}

/** Any other code (usage 2, infrastructure 3, interrupted 130, a crash) is a skip. */
export function safeStepExit(code: number): 0 | 1 | 125 {
  return code === 0 || code === 1 ? code : 125;
}
