import { describe, expect, it } from "vitest";
import { HarnessBug, InfraError, InterruptedError, UsageError } from "./errors.ts";
import { exitCodeOf, failure, failureKindOfExitCode, kindOfError } from "./outcome.ts";

describe("kinds, exit codes and exceptions", () => {
  it("an exception's kind: ours say theirs, anything else is a bug", () => {
    expect([new UsageError("x"), new InfraError("x"), new InterruptedError("x"), new HarnessBug("x"), new TypeError("x"), "thrown"].map(kindOfError)).toEqual([
      "configuration",
      "infrastructure",
      "interrupted",
      "bug",
      "bug",
      "bug",
    ]);
  });
  it("a failed run's exit code gives back the kind that made it, for every kind", () => {
    for (const kind of ["regression", "configuration", "infrastructure", "bug", "interrupted"] as const) {
      expect(failureKindOfExitCode(exitCodeOf(failure(kind, "build", "r")))).toBe(kind);
    }
    expect(failureKindOfExitCode(137)).toBe("regression");
  });
});
