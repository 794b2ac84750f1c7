import { describe, expect, it } from "vitest";
import { parseBisectOutput } from "./engine.ts";
import { judgePoint } from "./judge.ts";
import { normalizeSignature, sameSignature } from "./signature.ts";
import { GitBisectAbort, gitBisectExitCode, safeStepExit } from "./step-exit.ts";
import { classify, type PointOutcome } from "./verdict.ts";

const base = { durationMs: 1, built: true };
const pass: PointOutcome = { kind: "pass", ...base };
const infra: PointOutcome = { kind: "infra", message: "QEMU did not start", ...base };
const fail = (stage: "build" | "kconfig" | "boot" | "test", signature = `${stage}: x`, failedTests?: string[]): PointOutcome => ({
  kind: "fail",
  stage,
  signature,
  summary: `${stage} failed`,
  failedTests,
  ...base,
});

describe("classify", () => {
  it("hunting a build break: build and kconfig failures are bad, later failures good", () => {
    expect(classify(fail("build"), { kind: "build" }).verdict).toBe("bad");
    expect(classify(fail("kconfig"), { kind: "build" }).verdict).toBe("bad");
    expect(classify(fail("boot"), { kind: "build" }).verdict).toBe("good");
    expect(classify(fail("test"), { kind: "build" }).verdict).toBe("good");
  });
  it("hunting boot: a build failure is skip, a test failure good, a boot failure bad", () => {
    expect(classify(fail("build"), { kind: "boot" })).toEqual({ verdict: "skip", reason: "cannot boot: build failed" });
    expect(classify(fail("test"), { kind: "boot" }).verdict).toBe("good");
    expect(classify(fail("boot"), { kind: "boot" }).verdict).toBe("bad");
  });
  it("hunting a test: build and boot failures are skip; only the named test's failure is bad", () => {
    expect(classify(fail("boot"), { kind: "test" }).verdict).toBe("skip");
    expect(classify(fail("build"), { kind: "test", test: "t" }).verdict).toBe("skip");
    expect(classify(fail("test", "test: s/a", ["s/a"]), { kind: "test", test: "s/b" }).verdict).toBe("good");
    expect(classify(fail("test", "test: s/a", ["s/a"]), { kind: "test", test: "a" }).verdict).toBe("bad");
    expect(classify(fail("test", "test: s/a", ["s/a"]), { kind: "test" }).verdict).toBe("bad");
  });
  it("auto (the bad end, before the hunt is settled): any failure is bad", () => {
    for (const stage of ["build", "boot", "test"] as const) expect(classify(fail(stage), { kind: "auto" }).verdict).toBe("bad");
    expect(classify(pass, { kind: "auto" }).verdict).toBe("good");
    expect(classify(infra, { kind: "auto" }).verdict).toBe("skip");
  });
  it("infrastructure is skip, a pass good", () => {
    expect(classify(infra, { kind: "boot" })).toEqual({ verdict: "skip", reason: "infrastructure: QEMU did not start" });
    expect(classify(pass, { kind: "build" }).verdict).toBe("good");
  });
  it("compares signatures: another failure of the hunted kind is skip, not bad", () => {
    const hunted = "oops: NULL pointer in virtcrypto_probe+0x1c/0x2a0";
    expect(classify(fail("boot", "oops: NULL pointer in virtcrypto_probe+0x20/0x2b0"), { kind: "boot" }, hunted).verdict).toBe("bad");
    const other = classify(fail("boot", "WARNING: at mm/slab.c:123 kfree"), { kind: "boot" }, hunted);
    expect(other).toEqual({ verdict: "skip", reason: `another failure: WARNING: at mm/slab.c:123 kfree (hunting: ${hunted})` });
    expect(classify(fail("test", "test: s/b", ["s/b"]), { kind: "test" }, "test: s/a").verdict).toBe("skip");
  });
});

describe("signatures", () => {
  it("drop what moves between builds: offsets, addresses, lines, timestamps, pids, clone suffixes", () => {
    expect(normalizeSignature("[   12.345] Oops at foo.isra.0+0x1c/0x40 pc 0xffff800080123456 CPU: 1 PID: 77 x.c:12:5: y")).toBe(
      "Oops at foo pc ADDR CPU PID x.c: y",
    );
    expect(sameSignature("build: a.c:10:2: error: z", "build: a.c:99:7: error: z")).toBe(true);
    expect(sameSignature("panic in foo", "panic in bar")).toBe(false);
  });
});

describe("judgePoint", () => {
  const runs = (outcomes: PointOutcome[]) => {
    let i = 0;
    return async () => outcomes[Math.min(i++, outcomes.length - 1)]!;
  };
  it("bad only when the failure reproduces", async () => {
    expect(await judgePoint(runs([fail("boot"), fail("boot")]), { hunt: { kind: "boot" }, runs: 3, infraRetries: 0 })).toMatchObject({
      verdict: "bad",
      confidence: "2/2 runs failed alike",
    });
    expect(await judgePoint(runs([fail("boot"), pass, pass]), { hunt: { kind: "boot" }, runs: 3, infraRetries: 0 })).toMatchObject({
      verdict: "skip",
      reason: "did not reproduce: failed 1/3 (boot failed)",
    });
    expect(await judgePoint(runs([pass]), { hunt: { kind: "boot" }, runs: 3, infraRetries: 0 })).toMatchObject({
      verdict: "good",
      confidence: "3/3 runs passed",
    });
  });
  it("retries infrastructure failures, then skips", async () => {
    const j = await judgePoint(runs([infra, infra, pass]), { hunt: { kind: "boot" }, runs: 1, infraRetries: 2 });
    expect(j).toMatchObject({ verdict: "good" });
    expect(j.outcomes).toHaveLength(3);
    const k = await judgePoint(runs([infra]), { hunt: { kind: "boot" }, runs: 1, infraRetries: 1 });
    expect(k).toMatchObject({ verdict: "skip", reason: "infrastructure: QEMU did not start" });
    expect(k.outcomes).toHaveLength(2);
  });
});

describe("judgePoint with a lab (parallel repeats)", () => {
  /** Runs that take a while and record how many were in flight at once. */
  const timed = (outcomes: PointOutcome[]) => {
    let i = 0;
    const seen = { inFlight: 0, most: 0, started: 0 };
    const run = async () => {
      const o = outcomes[Math.min(i++, outcomes.length - 1)]!;
      seen.started++;
      seen.inFlight++;
      seen.most = Math.max(seen.most, seen.inFlight);
      await new Promise((r) => setTimeout(r, 20));
      seen.inFlight--;
      return o;
    };
    return { run, seen };
  };
  it("runs the first repeat alone (it builds), then the others at once, and judges them all", async () => {
    const { run, seen } = timed([pass, fail("boot"), fail("boot"), pass]);
    const j = await judgePoint(run, { hunt: { kind: "boot" }, runs: 4, infraRetries: 0, parallel: true });
    expect(seen.started).toBe(4);
    expect(seen.most).toBe(3);
    expect(j).toMatchObject({ verdict: "bad", confidence: "2/4 runs failed alike" });
  });
  it("one after another without parallel, settling early as before", async () => {
    const { run, seen } = timed([fail("boot"), fail("boot"), pass, pass]);
    const j = await judgePoint(run, { hunt: { kind: "boot" }, runs: 4, infraRetries: 0 });
    expect(seen.most).toBe(1);
    expect(seen.started).toBe(2);
    expect(j).toMatchObject({ verdict: "bad" });
  });
  it("a point that does not build is not repeated, in parallel either", async () => {
    const { run, seen } = timed([{ ...fail("build"), stage: "build" } as PointOutcome, pass]);
    const j = await judgePoint(run, { hunt: { kind: "boot" }, runs: 3, infraRetries: 0, parallel: true });
    expect(seen.started).toBe(1);
    expect(j.verdict).toBe("skip");
  });
});

describe("git bisect's output and exit codes", () => {
  it("parses the end of a bisection", () => {
    const sha = "a".repeat(40);
    expect(parseBisectOutput(`${sha} is the first bad commit\ncommit ${sha}\n`)).toEqual({ kind: "found", commit: sha });
    expect(
      parseBisectOutput(
        `There are only 'skip'ped commits left to test.\nThe first bad commit could be any of:\n${sha}\n${"b".repeat(40)}\nWe cannot bisect more!\n`,
      ),
    ).toEqual({
      kind: "only-skipped",
      candidates: [sha, "b".repeat(40)],
    });
    expect(parseBisectOutput("Bisecting: 3 revisions left to test after this (roughly 2 steps)\n[abc] x\n")).toEqual({ kind: "next" });
  });
  it("a step command answers only 0, 1 or 125, and 128 (git stops) for a bug in the harness only", () => {
    expect([gitBisectExitCode("good"), gitBisectExitCode("bad"), gitBisectExitCode("skip")]).toEqual([0, 1, 125]);
    expect([0, 1, 2, 3, 125, 130, 137, 255].map(safeStepExit)).toEqual([0, 1, 125, 125, 125, 125, 125, 125]);
    expect(safeStepExit(4)).toBe(GitBisectAbort);
    expect(GitBisectAbort).toBeGreaterThanOrEqual(128);
  });
});
