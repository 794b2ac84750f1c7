// What every stage returns. A failing test or an oops is a result, not an exception.
import type { Exec } from "./exec.ts";
import type { FailureKind, Signature, StageId } from "./outcome.ts";

export type { StageId } from "./outcome.ts";
export type StageStatus = "pass" | "warn" | "fail" | "skip";

export interface StageResult<T> {
  stage: StageId;
  status: StageStatus;
  durationMs: number;
  /** Why it failed, warned or was skipped: one line a developer can act on. */
  reason?: string;
  /** Further lines under the reason (first compiler errors, last console lines...). */
  details?: string[];
  logFile?: string;
  /** For a failure: what kind (regression unless said otherwise) and what identifies it across runs. */
  kind?: FailureKind;
  signature?: Signature;
  /** The commands the stage actually ran (or that made what it reused), for reproduce.sh; on success and on failure alike. */
  ran?: RanCommand[];
  /** Present when status is pass or warn (and for fail when the stage has partial output). */
  output?: T;
}

/** One command as run: argv, the folder it ran in, and the environment it was given beyond the harness's own. */
export interface RanCommand {
  argv: string[];
  cwd?: string;
  env?: Record<string, string>;
}

export interface Deps {
  exec: Exec;
  signal: AbortSignal;
  /** Progress lines for the UI (the listr2 task's output or a plain line). */
  progress: (message: string) => void;
}

export function passed<T>(stage: StageId, started: number, output: T, extra: Partial<StageResult<T>> = {}): StageResult<T> {
  return { stage, status: "pass", durationMs: performance.now() - started, output, ...extra };
}

export function failed<T>(stage: StageId, started: number, reason: string, extra: Partial<StageResult<T>> = {}): StageResult<T> {
  return { stage, status: "fail", durationMs: performance.now() - started, reason, ...extra };
}

export function skipped(stage: StageId, reason: string): StageResult<never> {
  return { stage, status: "skip", durationMs: 0, reason };
}
