// Judging one run of one bisection point: what the user hunts decides whether a failure is bad, good
// (the thing hunted worked) or skip (the point says nothing about it). Another failure than the one seen at
// the bad end is never blamed on the bug being hunted.
import { HarnessBug, InterruptedError } from "../../lib/errors.ts";
import { signatureText, type Outcome, type StageId } from "../../lib/outcome.ts";
import { sameSignature } from "./signature.ts";

/** What counts as bad. "auto" takes it from the bad end: whatever failed there (build, boot or tests). */
export type Hunt = { kind: "auto" } | { kind: "build" } | { kind: "boot" } | { kind: "test"; test?: string };

/** The hunt an "auto" bisection settles on once the bad end has failed. */
export function huntFromFailure(outcome: Extract<PointOutcome, { kind: "fail" }>): Exclude<Hunt, { kind: "auto" }> {
  if (outcome.stage === "boot") return { kind: "boot" };
  if (outcome.stage === "test") return { kind: "test" };
  return { kind: "build" };
}

/** What one run of the pipeline at one commit said (the command builds it from a run's results). */
export type PointOutcome =
  | { kind: "pass"; runDir?: string; durationMs: number; built: boolean }
  | {
      kind: "fail";
      stage: "series" | "kconfig" | "build" | "boot" | "test";
      signature: string;
      summary: string;
      failedTests?: string[];
      runDir?: string;
      durationMs: number;
      built: boolean;
    }
  | { kind: "infra"; message: string; runDir?: string; durationMs: number; built: boolean };

export type Verdict = "good" | "bad" | "skip";

type Phase = Extract<PointOutcome, { kind: "fail" }>["stage"];

/**
 * Which part of the pipeline a stage's regression says is broken at a commit. Every stage is named (a
 * new stage must be placed); null: its failure says nothing about the kernel at that commit (QEMU's own
 * build, the host), so the point is skipped like an infrastructure failure.
 */
const PHASE: Record<StageId, Phase | null> = {
  host: null,
  tree: null,
  series: "series",
  checkpatch: "series",
  kconfig: "kconfig",
  build: "build",
  // guest tests that no longer compile against the kernel's uapi headers
  rootfs: "build",
  artifacts: null,
  "qemu-source": null,
  "qemu-series": null,
  "qemu-build": null,
  "qemu-check": null,
  boot: "boot",
  ssh: "boot",
  guest: "test",
  shutdown: null,
};

/**
 * A run's outcome in the terms bisection judges by. An interruption is not an outcome (it stops the
 * bisection), nor is a bug in the harness (it stops the bisection with its stack: retrying or skipping
 * would hit it at every point and end "ambiguous"); a usage error thrown by the command never reaches here.
 */
export function pointOutcome(outcome: Outcome, common: { runDir?: string; durationMs: number; built: boolean }): PointOutcome {
  if (outcome.kind === "pass") return { kind: "pass", ...common };
  if (outcome.kind === "interrupted") throw new InterruptedError(outcome.reason);
  if (outcome.kind === "bug") throw new HarnessBug(`${outcome.reason}${common.runDir ? ` (run folder ${common.runDir})` : ""}`, outcome.details);
  const phase = PHASE[outcome.stage];
  if (outcome.kind === "infrastructure" || phase === null) return { kind: "infra", message: outcome.reason, ...common };
  // The tests that failed are what a test hunt compares; anything else compares the structured signature.
  const signature =
    phase === "test" && outcome.failedTests?.length ? `test: ${outcome.failedTests.join(", ")}` : signatureText(outcome.stage, outcome.signature);
  return {
    kind: "fail",
    stage: phase,
    signature,
    summary: outcome.reason,
    ...(outcome.failedTests ? { failedTests: outcome.failedTests } : {}),
    ...common,
  };
}

export function describeHunt(hunt: Hunt): string {
  return hunt.kind === "test" && hunt.test ? `test ${hunt.test}` : hunt.kind;
}

export function classify(outcome: PointOutcome, hunt: Hunt, hunted?: string): { verdict: Verdict; reason: string } {
  if (outcome.kind === "pass") return { verdict: "good", reason: "passed" };
  if (outcome.kind === "infra") return { verdict: "skip", reason: `infrastructure: ${outcome.message}` };
  const buildLike = outcome.stage === "series" || outcome.stage === "kconfig" || outcome.stage === "build";
  switch (hunt.kind) {
    case "auto": // only the bad end is judged before the hunt is settled: any failure is what is hunted
      return { verdict: "bad", reason: outcome.summary };
    case "build":
      if (!buildLike) return { verdict: "good", reason: `built (then ${outcome.stage} failed: not hunted)` };
      break;
    case "boot":
      if (buildLike) return { verdict: "skip", reason: `cannot boot: ${outcome.summary}` };
      if (outcome.stage === "test") return { verdict: "good", reason: `booted (tests failed: not hunted)` };
      break;
    case "test": {
      if (outcome.stage !== "test") return { verdict: "skip", reason: `cannot test: ${outcome.summary}` };
      const hits = !hunt.test || (outcome.failedTests ?? []).some((t) => t === hunt.test || t.endsWith(`/${hunt.test}`));
      if (!hits) return { verdict: "good", reason: `${hunt.test} passed (${outcome.summary})` };
      break;
    }
  }
  // A named test is the signature itself; otherwise the failure must be the one seen at the bad end.
  const named = hunt.kind === "test" && hunt.test !== undefined;
  if (hunted !== undefined && !named && !sameSignature(outcome.signature, hunted)) {
    return { verdict: "skip", reason: `another failure: ${outcome.signature} (hunting: ${hunted})` };
  }
  return { verdict: "bad", reason: outcome.summary };
}
