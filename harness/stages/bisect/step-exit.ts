// The only exit codes a `git bisect run` step command may return: 0 good, 1 bad, 125 skip. git treats
// anything from 128 up as "abort the bisection", which a panic or a signal must never cause.
import { ExitCode } from "../../lib/errors.ts";
import type { Verdict } from "./verdict.ts";

export const GitBisectExit = { good: 0, bad: 1, skip: 125 } as const;

export function gitBisectExitCode(verdict: Verdict): 0 | 1 | 125 {
  return GitBisectExit[verdict];
}

/** git bisect run stops on an exit code from 128 up: what a bug in the harness gets, and nothing else. */
export const GitBisectAbort = 128;

/**
 * Any other code (usage 2, infrastructure 3, interrupted 130, a kernel that crashed the step) is a skip; a
 * bug in the harness (4) stops git's bisection, since it would hit every point and skip them all.
 */
export function safeStepExit(code: number): 0 | 1 | 125 | typeof GitBisectAbort {
  if (code === ExitCode.bug) return GitBisectAbort;
  return code === 0 || code === 1 ? code : 125;
}
