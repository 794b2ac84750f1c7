// The bisection engine on a tiny real git tree with a fake pipeline: each commit's `state` file says what
// building and booting it would do (ok, BUILD_FAILS, PANIC, WARN_ELSEWHERE, FLAKY, INFRA). git bisect
// itself picks the points, so these tests also hold the engine to git's output format.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createExec } from "../../harness/lib/exec.ts";
import { git, gitOut } from "../../harness/lib/git.ts";
import type { Deps } from "../../harness/lib/stage.ts";
import { bisect, type BisectInput, type Evaluate } from "../../harness/stages/bisect/engine.ts";
import { bisectJunit, bisectSummary } from "../../harness/stages/bisect/report.ts";
import { HarnessBug } from "../../harness/lib/errors.ts";
import { pointOutcome, type PointOutcome } from "../../harness/stages/bisect/verdict.ts";

const exec = createExec();
const deps: Deps = { exec, signal: new AbortController().signal, progress: () => {} };
let repo: string;
let commits: string[];

/** A linear history: one commit per state, commit i's subject is "change i". */
async function makeRepo(states: string[]): Promise<string[]> {
  await git(exec, repo, ["init", "-q", "-b", "main"]);
  const made: string[] = [];
  for (const [i, state] of states.entries()) {
    writeFileSync(join(repo, "state"), `${state}\n${i}\n`); // the counter: every commit changes the tree
    await git(exec, repo, ["add", "state"]);
    await git(exec, repo, ["commit", "-q", "-m", `change ${i}`]);
    made.push(await gitOut(exec, repo, ["rev-parse", "HEAD"]));
  }
  return made;
}

/** The fake pipeline: reads the checked-out tree, counts its calls; FLAKY fails the first time only. */
function fakePipeline() {
  let calls = 0;
  const seen: string[] = [];
  const evaluate: Evaluate = async (point) => {
    calls++;
    const firstTime = !seen.includes(point.commit);
    seen.push(point.commit);
    const state = readFileSync(join(repo, "state"), "utf8").split("\n")[0]!;
    const base = { durationMs: 1, built: true, runDir: `/runs/${point.commit.slice(0, 7)}-${point.attempt}` };
    const panic: PointOutcome = { kind: "fail", stage: "boot", signature: "panic: NULL pointer in probe+0x1c/0x40", summary: "kernel died", ...base };
    switch (state) {
      case "BUILD_FAILS":
        return { kind: "fail", stage: "build", signature: "build: x.c:12:3: error: y undeclared", summary: "build failed", ...base };
      case "PANIC":
        return panic;
      case "PANIC_MOVED": // the same crash, its code moved: offsets differ
        return { ...panic, signature: "panic: NULL pointer in probe+0x2c/0x50" };
      case "WARN_ELSEWHERE":
        return { kind: "fail", stage: "boot", signature: "WARNING: at mm/slab.c in kfree", summary: "kernel warned", ...base };
      case "TEST_FAILS":
        return { kind: "fail", stage: "test", signature: "test: suite/t1", summary: "guest failed", failedTests: ["suite/t1"], ...base };
      case "FLAKY":
        return firstTime ? panic : { kind: "pass", ...base };
      case "INFRA":
        return { kind: "infra", message: "QEMU did not start", ...base };
      case "BUG": // what bisect-point does with a run whose outcome is a bug in the harness
        return pointOutcome(
          {
            kind: "bug",
            stage: "kconfig",
            reason: "a bug in the harness (kconfig): TypeError: x is undefined",
            details: ["at kconfigStep (harness/stages/kconfig/kconfig.ts:42:7)"],
            signature: { type: "message", text: "x" },
          },
          base,
        );
      default:
        return { kind: "pass", ...base };
    }
  };
  return { evaluate, calls: () => calls, seen };
}

const input = (over: Partial<BisectInput> = {}): BisectInput => ({
  treeDir: repo,
  good: commits[0]!,
  bad: commits[commits.length - 1]!,
  hunt: { kind: "boot" },
  runs: 1,
  infraRetries: 1,
  compareSignatures: true,
  ...over,
});

beforeEach(() => {
  repo = mkdtempSync(join(tmpdir(), "wdh-bisect-"));
});
afterEach(() => rmSync(repo, { recursive: true, force: true }));

describe("bisect on a tiny git tree", () => {
  it("finds the first bad commit of 16 in at most ceil(log2 15) + 2 evaluations, and restores the branch", async () => {
    commits = await makeRepo([...Array(11).fill("ok"), ...Array(5).fill("PANIC")]);
    const p = fakePipeline();
    const r = await bisect(input(), p.evaluate, deps);
    expect(r.status).toBe("found");
    if (r.status !== "found") return;
    expect(r.firstBad).toEqual({ commit: commits[11], subject: "change 11" });
    expect(p.calls()).toBeLessThanOrEqual(Math.ceil(Math.log2(15)) + 2);
    expect(r.steps.slice(0, 2).map((s) => s.role)).toEqual(["bad-end", "good-end"]);
    expect(r.badStep.commit).toBe(commits[11]);
    expect(r.lastGood?.commit).toBe(commits[10]);
    expect(await gitOut(exec, repo, ["symbolic-ref", "--short", "HEAD"])).toBe("main");
    expect(await gitOut(exec, repo, ["rev-parse", "HEAD"])).toBe(commits[15]);
    expect(bisectSummary(r)[0]).toBe(`first bad: ${commits[11]} change 11`);
    expect(bisectJunit(r)).toMatch(/<testcase [^>]*name="\d+ [0-9a-f]{12} change 11"[^>]*>\s*<failure/);

    // git's own log replays to the same answer
    writeFileSync(join(repo, "..", `${repo.split("/").pop()}.log`), r.gitLog);
    const replay = await git(exec, repo, ["bisect", "replay", join(repo, "..", `${repo.split("/").pop()}.log`)]);
    expect(replay.stdout).toContain(`${commits[11]} is the first bad commit`);
    await git(exec, repo, ["bisect", "reset"]);
  });

  it("the same crash at other offsets is the same signature; another WARNING is skipped, not blamed", async () => {
    // git's first point is the middle of the range: the WARNING there is judged, and skipped
    commits = await makeRepo(["ok", "ok", "ok", "ok", "WARN_ELSEWHERE", "ok", "PANIC_MOVED", "PANIC", "PANIC"]);
    const r = await bisect(input(), fakePipeline().evaluate, deps);
    expect(r.status).toBe("found");
    if (r.status !== "found") return;
    expect(r.firstBad.commit).toBe(commits[6]);
    const warn = r.steps.find((s) => s.commit === commits[4]);
    expect(warn).toMatchObject({
      verdict: "skip",
      reason: expect.stringMatching(/^another failure: WARNING: at mm\/slab.c in kfree \(hunting: panic: NULL pointer in probe/),
    });
  });

  it("without signature comparison, another failure of the hunted kind is blamed", async () => {
    commits = await makeRepo(["ok", "WARN_ELSEWHERE", "WARN_ELSEWHERE", "PANIC"]);
    const r = await bisect(input({ compareSignatures: false }), fakePipeline().evaluate, deps);
    expect(r.status === "found" && r.firstBad.commit).toBe(commits[1]);
  });

  it("hunting boot, a build failure is skipped; only skipped commits left is ambiguous, naming the candidates", async () => {
    commits = await makeRepo(["ok", "ok", "BUILD_FAILS", "BUILD_FAILS", "PANIC"]);
    const r = await bisect(input(), fakePipeline().evaluate, deps);
    expect(r.status).toBe("ambiguous");
    if (r.status !== "ambiguous") return;
    expect(r.candidates.map((c) => c.commit).sort()).toEqual([commits[2], commits[3], commits[4]].sort());
    expect(r.steps.filter((s) => s.verdict === "skip").every((s) => s.reason.startsWith("cannot boot"))).toBe(true);
  });

  it("hunting a build break: the build failure is bad, a later panic is good (it built)", async () => {
    commits = await makeRepo(["ok", "PANIC", "BUILD_FAILS", "BUILD_FAILS"]);
    const r = await bisect(input({ hunt: { kind: "build" } }), fakePipeline().evaluate, deps);
    expect(r.status === "found" && r.firstBad.commit).toBe(commits[2]);
  });

  it("hunting a named test: its failure is bad, a boot failure is skip", async () => {
    commits = await makeRepo(["ok", "ok", "TEST_FAILS", "TEST_FAILS"]);
    const r = await bisect(input({ hunt: { kind: "test", test: "t1" } }), fakePipeline().evaluate, deps);
    expect(r.status === "found" && r.firstBad.commit).toBe(commits[2]);
  });

  it("--hunt auto takes what failed at the bad end: a test failure hunts tests, so a panic on the way is skip", async () => {
    // the panic sits where git looks first (the middle of the range)
    commits = await makeRepo(["ok", "ok", "ok", "PANIC", "ok", "TEST_FAILS", "TEST_FAILS"]);
    const r = await bisect(input({ hunt: { kind: "auto" } }), fakePipeline().evaluate, deps);
    expect(r.status).toBe("found");
    if (r.status !== "found") return;
    expect(r.hunt).toEqual({ kind: "test" });
    expect(r.firstBad.commit).toBe(commits[5]);
    const panic = r.steps.find((s) => s.commit === commits[3]);
    expect(panic).toMatchObject({ verdict: "skip", reason: expect.stringMatching(/^cannot test/) });
  });

  it("--hunt auto on a build break hunts the build", async () => {
    commits = await makeRepo(["ok", "PANIC", "BUILD_FAILS"]);
    const r = await bisect(input({ hunt: { kind: "auto" } }), fakePipeline().evaluate, deps);
    expect(r.status === "found" && [r.hunt, r.firstBad.commit]).toEqual([{ kind: "build" }, commits[2]]);
  });

  it("an infrastructure failure is retried, then skipped, never bad", async () => {
    commits = await makeRepo(["ok", "ok", "INFRA", "ok", "PANIC"]);
    const p = fakePipeline();
    const r = await bisect(input({ infraRetries: 2 }), p.evaluate, deps);
    expect(r.status === "found" && r.firstBad.commit).toBe(commits[4]);
    const infra = r.steps.find((s) => s.commit === commits[2]);
    expect(infra?.verdict).toBe("skip");
    expect(infra?.outcomes).toHaveLength(3); // the run and two retries
  });

  it("a bug in the harness stops the bisection at the point that hit it: no retry, no skip, the tree reset", async () => {
    commits = await makeRepo(["ok", "ok", "ok", "BUG", "ok", "ok", "PANIC"]);
    const p = fakePipeline();
    const err = await bisect(input({ infraRetries: 2, runs: 3 }), p.evaluate, deps).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HarnessBug);
    expect((err as HarnessBug).message).toMatch(/^a bug in the harness \(kconfig\): TypeError/);
    expect((err as HarnessBug).details.join("\n")).toMatch(/kconfig\.ts:42/);
    // the bug was hit once and nothing ran after it
    expect(p.seen.filter((c) => c === commits[3])).toHaveLength(1);
    expect(p.seen[p.seen.length - 1]).toBe(commits[3]);
    // no bisection left in progress, the branch back where it was
    expect((await git(exec, repo, ["bisect", "log"]).catch(() => ({ stdout: "" }))).stdout).not.toMatch(/git bisect start/);
    expect(await gitOut(exec, repo, ["symbolic-ref", "--short", "HEAD"])).toBe("main");
  });

  it("a flaky failure that does not reproduce is skip; with --runs 3 the report states the confidence", async () => {
    commits = await makeRepo(["ok", "FLAKY", "FLAKY", "ok", "PANIC", "PANIC"]);
    const p = fakePipeline();
    const r = await bisect(input({ runs: 3 }), p.evaluate, deps);
    expect(r.status).toBe("found");
    if (r.status !== "found") return;
    expect(r.badStep.confidence).toMatch(/^[23]\/[23] runs failed alike$/);
    expect(r.steps.find((s) => s.role === "good-end")!.confidence).toBe("3/3 runs passed");
    expect(r.firstBad.commit).toBe(commits[4]);
    const flaky = r.steps.filter((s) => s.commit === commits[1] || s.commit === commits[2]);
    expect(flaky.length).toBeGreaterThan(0); // git's midpoint of 6 lands on one of them
    for (const f of flaky) expect(f).toMatchObject({ verdict: "skip", reason: expect.stringMatching(/^did not reproduce: failed 1\/3/) });
  });

  it("endpoints first: a failing good end or a passing bad end stops before git bisect starts", async () => {
    commits = await makeRepo(["PANIC", "ok", "PANIC"]);
    const r = await bisect(input(), fakePipeline().evaluate, deps);
    expect(r).toMatchObject({ status: "endpoints", reason: expect.stringMatching(/^the good end [0-9a-f]{12} \("change 0"\) fails \(bad: /) });
    expect(r.steps.map((s) => s.role)).toEqual(["bad-end", "good-end"]);
    const r2 = await bisect(input({ good: commits[1], bad: commits[1] }), fakePipeline().evaluate, deps);
    expect(r2).toMatchObject({ status: "endpoints", reason: expect.stringMatching(/the bad end .* does not fail as hunted \(good: passed\)/) });
    expect(r2.steps).toHaveLength(1);
    expect(await gitOut(exec, repo, ["symbolic-ref", "--short", "HEAD"])).toBe("main");
  });

  it("refuses a dirty tree, a tree already bisecting, and unknown refs", async () => {
    commits = await makeRepo(["ok", "PANIC"]);
    await expect(bisect(input({ good: "nope" }), fakePipeline().evaluate, deps)).rejects.toThrow(/--good nope is not a commit/);
    writeFileSync(join(repo, "state"), "dirty\n");
    await expect(bisect(input(), fakePipeline().evaluate, deps)).rejects.toThrow(/has local changes/);
    await git(exec, repo, ["checkout", "-q", "state"]);
    await git(exec, repo, ["bisect", "start"]);
    await expect(bisect(input(), fakePipeline().evaluate, deps)).rejects.toThrow(/already being bisected/);
  });

  it("a history with a merge: git picks the points, the engine follows", async () => {
    commits = await makeRepo(["ok", "ok", "ok"]);
    await git(exec, repo, ["checkout", "-q", "-b", "topic", commits[1]!]);
    writeFileSync(join(repo, "other"), "x\n");
    await git(exec, repo, ["add", "other"]);
    await git(exec, repo, ["commit", "-q", "-m", "topic change"]);
    writeFileSync(join(repo, "state"), "PANIC\n");
    await git(exec, repo, ["commit", "-q", "-am", "topic breaks it"]);
    const culprit = await gitOut(exec, repo, ["rev-parse", "HEAD"]);
    await git(exec, repo, ["checkout", "-q", "main"]);
    await git(exec, repo, ["merge", "-q", "--no-ff", "-X", "theirs", "-m", "merge topic", "topic"]);
    const merged = await gitOut(exec, repo, ["rev-parse", "HEAD"]);
    const r = await bisect(input({ bad: merged }), fakePipeline().evaluate, deps);
    expect(r.status === "found" && r.firstBad).toEqual({ commit: culprit, subject: "topic breaks it" });
  });
});
