// One outcome per run, from the stage that failed to the exit code. A failing stage says what kind of
// failure it is and gives a structured signature; the exit code, the verdict line, results.json and the
// bisect judgement are all derived from that one value (here, and in stages/bisect for the judgement).
// Nothing downstream classifies by a stage's name or re-reads a log to learn what happened.
import { ExitCode, HarnessBug, HarnessError, isAbort, UsageError, type ExitCodeValue } from "./errors.ts";

/** Every stage of every command, one union: a new stage is added here first. */
export const STAGE_IDS = [
  "host",
  "tree",
  "series",
  "checkpatch",
  "kconfig",
  "build",
  "artifacts",
  "qemu-source",
  "qemu-series",
  "qemu-build",
  "qemu-check",
  "rootfs",
  "boot",
  "ssh",
  "guest",
  "shutdown",
] as const;
export type StageId = (typeof STAGE_IDS)[number];

/**
 * regression: the series, the kernel or a test (exit 1); configuration: the user's input (2);
 * infrastructure: a tool, the network, a lab (3); bug: the harness itself threw what no stage expected (4);
 * interrupted: Ctrl-C or SIGTERM (130).
 */
export type FailureKind = "regression" | "configuration" | "infrastructure" | "bug" | "interrupted";

/** What identifies a failure across runs and commits (bisect compares these), by what failed. */
export type Signature =
  /** A patch that does not apply: the patch, and the file and hunk git stopped at. */
  | { type: "patch"; patch: string; file?: string; hunk?: string }
  /** Kconfig options a fragment asked for that the final .config does not have. */
  | { type: "kconfig"; options: string[] }
  /** The compiler's (or linker's) first error. */
  | { type: "compile"; file?: string; line?: number; message: string }
  /** A kernel report: its kind, title and top frames; `text` is triage's comparable signature. */
  | { type: "crash"; kind: string; title: string; frames: string[]; text: string; consoleLine?: number }
  /** Guest tests that failed (suite/name). */
  | { type: "tests"; failed: string[] }
  /** Anything else: one line. */
  | { type: "message"; text: string };

export interface Failure {
  kind: FailureKind;
  stage: StageId;
  /** One line a developer can act on; leads with the kernel's own report when there is one. */
  reason: string;
  details: string[];
  signature: Signature;
  /** The guest tests that failed (suite/name), when tests ran: the ones that saw the failure. */
  failedTests?: string[];
}

export type Outcome = { kind: "pass" } | Failure;

const EXIT: Record<Outcome["kind"], ExitCodeValue> = {
  pass: ExitCode.ok,
  regression: ExitCode.failure,
  configuration: ExitCode.usage,
  infrastructure: ExitCode.infrastructure,
  bug: ExitCode.bug,
  interrupted: ExitCode.interrupted,
};

export function exitCodeOf(outcome: Outcome): ExitCodeValue {
  return EXIT[outcome.kind];
}

/** The kind of failure a failed run's exit code says (results.json from before the typed outcome has only the code). */
export function failureKindOfExitCode(code: number): FailureKind {
  const kinds = Object.keys(EXIT).filter((k): k is FailureKind => k !== "pass");
  return kinds.find((k) => EXIT[k] === code) ?? "regression";
}

/** The kind of failure an exception says: its class when it is one of ours, otherwise a bug in the harness. */
export function kindOfError(e: unknown): FailureKind {
  if (isAbort(e)) return "interrupted";
  if (e instanceof UsageError) return "configuration";
  if (e instanceof HarnessError && !(e instanceof HarnessBug)) return "infrastructure";
  return "bug";
}

/** The reason line (a stage's failure reads `<stage>: <reason>`), or undefined for a pass. */
export function reasonOf(outcome: Outcome): string | undefined {
  return outcome.kind === "pass" ? undefined : outcome.reason;
}

/** The run's last line but one: PASS, or FAIL with the exit code, the stage and the reason. */
export function verdictLine(outcome: Outcome): string {
  return outcome.kind === "pass" ? "PASS (exit 0)" : `FAIL (exit ${exitCodeOf(outcome)}): ${reasonOf(outcome)}`;
}

/** The signature as one comparable line (bisect compares these after normalising numbers away). */
export function signatureText(stage: StageId, s: Signature): string {
  switch (s.type) {
    case "patch":
      return `series: ${s.patch}${s.file ? ` ${s.file}` : ""}${s.hunk ? ` ${s.hunk}` : ""}`;
    case "kconfig":
      return `kconfig: ${s.options.join(", ")}`;
    case "compile":
      return `${stage === "rootfs" ? "rootfs" : "build"}: ${s.file ? `${s.file}${s.line ? `:${s.line}` : ""}: ` : ""}${s.message}`;
    case "crash":
      return s.text;
    case "tests":
      return `test: ${s.failed.join(", ")}`;
    case "message":
      return `${stage}: ${s.text}`;
  }
}

/** A failure of the given kind at a stage, with a one-line signature when nothing more structured is known. */
export function failure(kind: FailureKind, stage: StageId, reason: string, details: string[] = [], signature?: Signature): Failure {
  return { kind, stage, reason, details, signature: signature ?? { type: "message", text: reason } };
}
