// One bisection point judged over several runs: infrastructure failures are retried, and a failure
// counts only when it reproduces. The same rule serves the bisect command and the git-bisect-run step.
import { classify, type Hunt, type PointOutcome, type Verdict } from "./verdict.ts";

export interface JudgeOptions {
  hunt: Hunt;
  /** The bad end's signature; undefined = do not compare. */
  hunted?: string;
  runs: number;
  infraRetries: number;
  signal?: AbortSignal;
  /**
   * Run the repeats at once (an executor with machines of its own, such as a LAVA lab): the first run
   * alone, since it builds, then the other runs - 1 together. Every run then counts; nothing settles early.
   */
  parallel?: boolean;
}

export interface Judgement {
  verdict: Verdict;
  reason: string;
  /** Every run, infrastructure retries included, in order. */
  outcomes: PointOutcome[];
  confidence: string;
}

export async function judgePoint(run: (attempt: number) => Promise<PointOutcome>, o: JudgeOptions): Promise<Judgement> {
  const outcomes: PointOutcome[] = [];
  const finals: { verdict: Verdict; reason: string; outcome: PointOutcome }[] = [];
  let attempt = 0;
  // One run with its infrastructure retries; attempts are numbered in the order they start.
  const once = async (): Promise<PointOutcome> => {
    let outcome: PointOutcome;
    let retries = 0;
    for (;;) {
      outcome = await run(++attempt);
      outcomes.push(outcome);
      if (outcome.kind !== "infra" || retries++ >= o.infraRetries || o.signal?.aborted) return outcome;
    }
  };
  if (o.parallel && o.runs > 1) {
    const first = await once();
    finals.push({ ...classify(first, o.hunt, o.hunted), outcome: first });
    if (!unbuildable(finals[0]!) && !o.signal?.aborted) {
      const rest = await Promise.all(Array.from({ length: o.runs - 1 }, () => once()));
      for (const outcome of rest) finals.push({ ...classify(outcome, o.hunt, o.hunted), outcome });
    }
    return summarise(finals, o.runs, outcomes);
  }
  for (let i = 0; i < o.runs; i++) {
    const outcome = await once();
    finals.push({ ...classify(outcome, o.hunt, o.hunted), outcome });
    const bad = finals.filter((f) => f.verdict === "bad").length;
    // Settled early: enough reproductions, or a verdict the remaining runs cannot change.
    if (o.runs > 1 && bad >= 2) break;
    if (finals.length === 1 && o.runs > 1 && unbuildable(finals[0]!)) break;
  }
  return summarise(finals, o.runs, outcomes);
}

/** A first run skipped because the point could not be built: the next runs of that point would not build either. */
function unbuildable(f: { verdict: Verdict; outcome: PointOutcome }): boolean {
  return f.verdict === "skip" && f.outcome.kind !== "infra" && ["series", "kconfig", "build"].includes((f.outcome as { stage?: string }).stage ?? "");
}

function summarise(finals: { verdict: Verdict; reason: string }[], runs: number, outcomes: PointOutcome[]): Judgement {
  const count = (v: Verdict) => finals.filter((f) => f.verdict === v).length;
  const [good, bad, skip] = [count("good"), count("bad"), count("skip")];
  const n = finals.length;
  const first = (v: Verdict) => finals.find((f) => f.verdict === v)!.reason;
  if (runs === 1) {
    const f = finals[0]!;
    return { verdict: f.verdict, reason: f.reason, outcomes, confidence: "1 run (not repeated)" };
  }
  if (bad >= 2) return { verdict: "bad", reason: first("bad"), outcomes, confidence: `${bad}/${n} runs failed alike` };
  if (good === n) return { verdict: "good", reason: "passed", outcomes, confidence: `${good}/${n} runs passed` };
  if (bad === 1) return { verdict: "skip", reason: `did not reproduce: failed 1/${n} (${first("bad")})`, outcomes, confidence: `1/${n} runs failed` };
  return { verdict: "skip", reason: first("skip"), outcomes, confidence: `${skip}/${n} runs said nothing (${good} passed)` };
}
