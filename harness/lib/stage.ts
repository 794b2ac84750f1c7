// What every stage returns. A failing test or an oops is a result, not an exception.
import type { Exec } from "./exec.ts";

export type StageStatus = "pass" | "warn" | "fail" | "skip";

export interface StageResult<T> {
  stage: string;
  status: StageStatus;
  durationMs: number;
  /** Why it failed, warned or was skipped: one line a developer can act on. */
  reason?: string;
  /** Further lines under the reason (first compiler errors, last console lines...). */
  details?: string[];
  logFile?: string;
  /** Present when status is pass or warn (and for fail when the stage has partial output). */
  output?: T;
}

export interface Deps {
  exec: Exec;
  signal: AbortSignal;
  /** Progress lines for the UI (the listr2 task's output or a plain line). */
  progress: (message: string) => void;
}

export function passed<T>(stage: string, started: number, output: T, extra: Partial<StageResult<T>> = {}): StageResult<T> {
  return { stage, status: "pass", durationMs: performance.now() - started, output, ...extra };
}

export function failed<T>(
  stage: string,
  started: number,
  reason: string,
  extra: Partial<StageResult<T>> = {},
): StageResult<T> {
  return { stage, status: "fail", durationMs: performance.now() - started, reason, ...extra };
}

export function skipped(stage: string, reason: string): StageResult<never> {
  return { stage, status: "skip", durationMs: 0, reason };
}
