// A regression bisection driven through git's own `git bisect`: git picks the points (kernel history has
// merges), the evaluator runs the pipeline on the checked-out tree, the judge turns its runs into good,
// bad or skip, and `git bisect log` is the replay log. Endpoints are judged first; the tree and the
// user's branch are always put back.
import { existsSync, writeFileSync } from "node:fs";
import { InfraError, UsageError } from "../../lib/errors.ts";
import { git, gitOut } from "../../lib/git.ts";
import type { Deps } from "../../lib/stage.ts";
import { judgePoint, type Judgement } from "./judge.ts";
import { describeHunt, huntFromFailure, type Hunt, type PointOutcome, type Verdict } from "./verdict.ts";

export interface BisectInput {
  treeDir: string;
  good: string;
  bad: string;
  hunt: Hunt;
  runs: number;
  /** Repeats of a point at once (an executor with machines of its own). */
  parallel?: boolean;
  infraRetries: number;
  compareSignatures: boolean;
  logFile?: string;
}

export type Role = "good-end" | "bad-end" | "step";
export type Evaluate = (point: { commit: string; subject: string; role: Role; attempt: number }) => Promise<PointOutcome>;

export interface StepRecord {
  commit: string;
  subject: string;
  role: Role;
  verdict: Verdict;
  reason: string;
  outcomes: PointOutcome[];
  durationMs: number;
  confidence: string;
}

interface Commit {
  commit: string;
  subject: string;
}

export type BisectResult =
  | {
      status: "found";
      firstBad: Commit;
      hunted: string;
      hunt: Hunt;
      steps: StepRecord[];
      lastGood?: StepRecord;
      badStep: StepRecord;
      gitLog: string;
      confidence: string;
    }
  | { status: "ambiguous"; candidates: Commit[]; hunted: string; hunt: Hunt; steps: StepRecord[]; gitLog: string; reason: string }
  | { status: "endpoints"; reason: string; steps: StepRecord[] };

export async function bisect(input: BisectInput, evaluate: Evaluate, deps: Deps): Promise<BisectResult> {
  const run = (args: string[], allowFailure = false) => git(deps.exec, input.treeDir, args, { signal: deps.signal, logFile: input.logFile, allowFailure });
  const out = async (args: string[]) => (await run(args)).stdout.trim();

  if (existsSync(await gitPath(input.treeDir, "BISECT_START", deps))) {
    throw new UsageError(`${input.treeDir} is already being bisected; finish it with git bisect reset`);
  }
  if ((await out(["status", "--porcelain", "--untracked-files=no"])) !== "") {
    throw new UsageError(`${input.treeDir} has local changes; commit or stash them before bisecting`);
  }
  const resolveRef = async (ref: string, which: string): Promise<Commit> => {
    const r = await run(["rev-parse", "-q", "--verify", `${ref}^{commit}`], true);
    if (r.exitCode !== 0) throw new UsageError(`--${which} ${ref} is not a commit of ${input.treeDir}`);
    const commit = r.stdout.trim();
    return { commit, subject: await out(["log", "-1", "--format=%s", commit]) };
  };
  const good = await resolveRef(input.good, "good");
  const bad = await resolveRef(input.bad, "bad");
  if ((await run(["merge-base", "--is-ancestor", good.commit, bad.commit], true)).exitCode !== 0) {
    throw new UsageError(`the good end ${short(good)} is not an ancestor of the bad end ${short(bad)}`);
  }
  const original = (await run(["symbolic-ref", "-q", "--short", "HEAD"], true)).stdout.trim() || (await out(["rev-parse", "HEAD"]));

  const steps: StepRecord[] = [];
  let hunted: string | undefined;
  let hunt = input.hunt;
  const judge = async (point: Commit, role: Role): Promise<StepRecord> => {
    const started = performance.now();
    const j: Judgement = await judgePoint((attempt) => evaluate({ ...point, role, attempt }), {
      hunt,
      hunted: input.compareSignatures ? hunted : undefined,
      runs: input.runs,
      parallel: input.parallel,
      infraRetries: input.infraRetries,
      signal: deps.signal,
    });
    const step: StepRecord = {
      ...point,
      role,
      verdict: j.verdict,
      reason: j.reason,
      outcomes: j.outcomes,
      durationMs: performance.now() - started,
      confidence: j.confidence,
    };
    steps.push(step);
    deps.progress(`step ${steps.length} (${role}): ${short(point)} ${j.verdict} (${j.confidence}) in ${(step.durationMs / 1000).toFixed(0)} s: ${j.reason}`);
    return step;
  };

  let bisecting = false;
  try {
    // Endpoints first: the bad end must fail and the good end must pass. The bad end goes first: it is
    // usually the kernel the failing run just built (no build), and its failure is the signature hunted.
    await run(["checkout", "-q", "--detach", bad.commit]);
    const badEnd = await judge(bad, "bad-end");
    if (badEnd.verdict !== "bad") {
      return { status: "endpoints", reason: `the bad end ${short(bad)} does not fail as hunted (${badEnd.verdict}: ${badEnd.reason})`, steps };
    }
    hunted = huntedSignature(badEnd);
    const failedAtBadEnd = badEnd.outcomes.find((o) => o.kind === "fail");
    if (hunt.kind === "auto" && failedAtBadEnd?.kind === "fail") {
      hunt = huntFromFailure(failedAtBadEnd);
      deps.progress(`hunting ${describeHunt(hunt)} failures like the bad end's: ${hunted}`);
    }
    await run(["checkout", "-q", "--detach", good.commit]);
    const goodEnd = await judge(good, "good-end");
    if (goodEnd.verdict !== "good") {
      return { status: "endpoints", reason: `the good end ${short(good)} fails (${goodEnd.verdict}: ${goodEnd.reason})`, steps };
    }
    await run(["checkout", "-q", original]);

    bisecting = true;
    let said = (await run(["bisect", "start", bad.commit, good.commit])).stdout;
    for (;;) {
      const end = parseBisectOutput(said);
      if (end.kind === "found") {
        const firstBad =
          end.commit === bad.commit
            ? bad
            : (steps.find((s) => s.commit === end.commit) ?? { commit: end.commit, subject: await out(["log", "-1", "--format=%s", end.commit]) });
        const badStep = steps.filter((s) => s.commit === end.commit && s.verdict === "bad").pop() ?? badEnd;
        const parent = (await run(["rev-parse", "-q", "--verify", `${end.commit}^`], true)).stdout.trim();
        const lastGood = steps.filter((s) => s.verdict === "good" && s.commit === parent).pop() ?? steps.filter((s) => s.verdict === "good").pop();
        const gitLog = await out(["bisect", "log"]);
        return {
          status: "found",
          firstBad: { commit: firstBad.commit, subject: firstBad.subject },
          hunted,
          hunt,
          steps,
          lastGood,
          badStep,
          gitLog: `${gitLog}\n`,
          confidence: confidenceOf(steps),
        };
      }
      if (end.kind === "only-skipped") {
        const candidates: Commit[] = [];
        for (const c of end.candidates) candidates.push({ commit: c, subject: await out(["log", "-1", "--format=%s", c]) });
        const gitLog = await out(["bisect", "log"]);
        return {
          status: "ambiguous",
          candidates,
          hunted,
          hunt,
          steps,
          gitLog: `${gitLog}\n`,
          reason: `only skipped commits are left; the first bad commit is one of ${candidates.length}`,
        };
      }
      const point = { commit: await out(["rev-parse", "HEAD"]), subject: await out(["log", "-1", "--format=%s", "HEAD"]) };
      const step = await judge(point, "step");
      // git exits 2 when only skipped commits are left; its output says so, and is parsed above.
      const answer = await run(["bisect", step.verdict, point.commit], true);
      if (answer.exitCode !== 0 && !/only 'skip'ped commits left/.test(answer.stdout)) {
        throw new InfraError(`git bisect ${step.verdict} ${point.commit} failed (exit ${answer.exitCode})`, answer.stderr.trim().split("\n").slice(-5));
      }
      said = answer.stdout;
    }
  } finally {
    if (input.logFile && bisecting) writeFileSync(`${input.logFile}.replay`, (await run(["bisect", "log"], true)).stdout);
    if (bisecting) await run(["bisect", "reset"], true);
    else await run(["checkout", "-q", original], true);
  }
}

/** The signature of the bad end: the first failing run's. */
function huntedSignature(step: StepRecord): string {
  const failed = step.outcomes.find((o) => o.kind === "fail");
  return failed && failed.kind === "fail" ? failed.signature : step.reason;
}

type BisectOutput = { kind: "found"; commit: string } | { kind: "only-skipped"; candidates: string[] } | { kind: "next" };

/** What `git bisect start|good|bad|skip` printed (git 2.39): the end, or the next point checked out. */
export function parseBisectOutput(text: string): BisectOutput {
  const found = /^([0-9a-f]{40}) is the first bad commit/m.exec(text);
  if (found) return { kind: "found", commit: found[1]! };
  if (/There are only 'skip'ped commits left to test/.test(text)) {
    const list = text.slice(text.indexOf("could be any of:"));
    return { kind: "only-skipped", candidates: [...list.matchAll(/^([0-9a-f]{40})$/gm)].map((m) => m[1]!) };
  }
  return { kind: "next" };
}

function confidenceOf(steps: StepRecord[]): string {
  const skipped = steps.filter((s) => s.verdict === "skip").length;
  const judged = steps.filter((s) => s.verdict !== "skip");
  const runs = Math.max(...steps.map((s) => s.outcomes.length));
  const repeated =
    runs > 1 ? judged.map((s) => `${short(s)} ${s.confidence}`).join("; ") : "each point run once (--runs 1): a flaky failure would not be caught";
  return `${judged.length} points judged, ${skipped} skipped; ${repeated}`;
}

async function gitPath(treeDir: string, name: string, deps: Deps): Promise<string> {
  const p = await gitOut(deps.exec, treeDir, ["rev-parse", "--git-path", name]);
  return p.startsWith("/") ? p : `${treeDir}/${p}`;
}

function short(c: Commit): string {
  return `${c.commit.slice(0, 12)} ("${c.subject}")`;
}
