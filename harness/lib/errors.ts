// The error taxonomy. Test, boot and kernel failures are *values* (StageResult with status "fail");
// only these are thrown. Each class maps to one exit code, in one place (exitCodeFor).

export const ExitCode = {
  ok: 0,
  failure: 1, // a test, boot or kernel failure: a regression
  usage: 2, // bad usage or config
  infrastructure: 3, // a tool missing, QEMU did not start, apt failed...
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

/** The run was cancelled (Ctrl-C, SIGTERM). */
export class InterruptedError extends HarnessError {
  override readonly exitCode = ExitCode.interrupted;
}

export function exitCodeFor(error: unknown): ExitCodeValue {
  if (error instanceof HarnessError) return error.exitCode;
  return ExitCode.infrastructure; // a bug in the harness is not a kernel regression
}

export function isAbort(error: unknown): boolean {
  return error instanceof InterruptedError || (error instanceof Error && error.name === "AbortError");
}
