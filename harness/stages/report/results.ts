// results.json and junit.xml from what the stages returned: the report reads results, never the
// stages' internals.
import { writeFileSync } from "node:fs";
import type { StageResult } from "../../lib/stage.ts";
import type { Outcome } from "../../lib/outcome.ts";
import type { TestResult } from "../guest/judge.ts";
import type { Finding } from "../triage/triage.ts";
import type { SmmuReport } from "../triage/smmu-expect.ts";
import { toJUnit, type JUnitCase } from "./junit.ts";
import type { AppliedPatch } from "../series/series.ts";
import type { CheckpatchVerdict } from "../checkpatch/checkpatch.ts";
import { countsOf } from "../checkpatch/checkpatch.ts";
import type { QtestResult } from "../qemu-build/check.ts";

export interface RunResults {
  run: string;
  status: "pass" | "fail";
  exitCode: number;
  reason?: string;
  /** The run's one outcome: kind (regression, configuration, infrastructure, interrupted), stage, signature. */
  outcome?: Outcome;
  kernelRelease?: string;
  /** Where it ran: the machine, its executor, and its devices with what each is for (the machine file's `role`). */
  machine?: { name: string; executor: string; devices: { id: string; driver: string; role?: string }[] };
  timings: Record<string, number>;
  stages: Omit<StageResult<unknown>, "output">[];
  tests: Omit<TestResult, "tap">[];
  /** Findings on the console outside any test (boot, shutdown). */
  consoleFindings: Pick<Finding, "id" | "kind" | "severity" | "title" | "lineIndex" | "signature">[];
  /** SMMU events: how many, which tests expected them, which nobody did, and what the rate limit dropped. */
  smmu?: SmmuReport;
  /** Each applied patch: subject, hash, commit, where it came from and what its signatures said. */
  patches?: Omit<AppliedPatch, "file">[];
  checkpatch?: CheckpatchVerdict[];
  /** The QEMU the harness built and checked for this run (absent when the host's binary ran). */
  qemu?: {
    source: string;
    head?: string;
    binary?: string;
    binarySha256?: string;
    buildKey?: string;
    patches?: Omit<AppliedPatch, "file">[];
    checkpatch?: CheckpatchVerdict[];
    qtests?: QtestResult[];
  };
}

export function writeResults(dir: string, results: RunResults): void {
  writeFileSync(`${dir}/results.json`, JSON.stringify(results, null, 2) + "\n");
  writeFileSync(`${dir}/junit.xml`, junitFor(results));
}

export function junitFor(results: RunResults): string {
  const stageCases: JUnitCase[] = results.stages.map((s) => ({
    classname: "harness",
    name: s.stage,
    durationMs: s.durationMs,
    status: s.status === "warn" ? "pass" : s.status,
    message: s.reason,
    output: s.details?.join("\n"),
  }));
  const testCases: JUnitCase[] = results.tests.map((t) => ({
    classname: t.suite,
    name: t.name,
    durationMs: t.durationMs,
    status: t.status,
    message: t.reason,
    output: t.output,
    kernelLog: t.kernelLog.join("\n"),
  }));
  const enforced = results.stages.some((s) => s.stage === "checkpatch" && s.status === "fail");
  const checkpatchCases: JUnitCase[] = (results.checkpatch ?? []).map((v) => ({
    classname: `checkpatch.${v.series}`,
    name: v.file.split("/").pop()!,
    durationMs: 0,
    status: v.errors > 0 && enforced ? "fail" : "pass",
    message: v.verdict === "clean" ? undefined : countsOf(v),
    output: v.messages.join("\n") || undefined,
  }));
  const qtestCases: JUnitCase[] = (results.qemu?.qtests ?? []).flatMap((q) =>
    q.points.map((p) => ({
      classname: `qtest.${q.name}`,
      name: p.name,
      durationMs: 0,
      status: p.status === "fail" ? ("fail" as const) : p.status === "skip" ? ("skip" as const) : ("pass" as const),
      message: p.directive,
    })),
  );
  return toJUnit([
    { name: `${results.run}/stages`, cases: stageCases },
    ...(qtestCases.length ? [{ name: `${results.run}/qemu-check`, cases: qtestCases }] : []),
    ...(checkpatchCases.length ? [{ name: `${results.run}/checkpatch`, cases: checkpatchCases }] : []),
    { name: `${results.run}/guest-tests`, cases: testCases },
  ]);
}
