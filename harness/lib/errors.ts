// The error taxonomy. Test, boot and kernel failures are *values* (StageResult with status "fail");
// only these are thrown. Each class maps to one exit code, in one place (exitCodeFor).

export const ExitCode = {
  ok: 0,
  failure: 1, // a test, boot or kernel failure: a regression
  usage: 2, // bad usage or config
  infrastructure: 3, // a tool missing, QEMU did not start, apt failed...
  bug: 4, // a bug in the harness: an exception no stage expected (the stack is shown); never retried or skipped
  interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export class HarnessError extends Error {
  readonly exitCode: ExitCodeValue = ExitCode.infrastructure;
  /** Lines worth showing under the message (a log tail, a hint). */
  readonly details: string[];
  constructor(message: string, details: string[] = [], options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.details = details;
  }
}

/** The user asked for something that cannot be done as asked: a bad flag, profile or manifest. */
export class UsageError extends HarnessError {
  override readonly exitCode = ExitCode.usage;
}

/** The machinery failed, not the kernel: a missing tool, a download that failed, QEMU that never started. */
export class InfraError extends HarnessError {
  override readonly exitCode = ExitCode.infrastructure;
}

/** A required host tool is not installed. */
export class ToolMissingError extends InfraError {}

/**
 * A bug in the harness, carried on: an exception that is not a HarnessError reached a command (a
 * TypeError, a failed assertion). Its details are the original stack. A bisection stops on it rather
 * than skip the point, since every later point would hit the same bug.
 */
export class HarnessBug extends HarnessError {
  override readonly exitCode = ExitCode.bug;
}

/** The stack of a bug as detail lines (the message line itself left out). */
export function stackLines(e: unknown): string[] {
  if (!(e instanceof Error) || !e.stack) return [];
  return e.stack
    .split("\n")
    .filter((l) => /^\s+at /.test(l))
    .map((l) => l.trim());
}

/** The run was cancelled (Ctrl-C, SIGTERM). */
export class InterruptedError extends HarnessError {
  override readonly exitCode = ExitCode.interrupted;
}

export function exitCodeFor(error: unknown): ExitCodeValue {
  if (error instanceof HarnessError) return error.exitCode;
  if (isAbort(error)) return ExitCode.interrupted;
  return ExitCode.bug; // neither a kernel regression nor the infrastructure: the harness itself
}

export function isAbort(error: unknown): boolean {
  return error instanceof InterruptedError || (error instanceof Error && error.name === "AbortError");
}
