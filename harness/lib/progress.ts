// Progress of long work with a count (make's objects, ninja's steps): one line format with done/expected,
// a percentage and a time estimate, written by the stages; the view (run-steps) decides how many of those
// lines a reader sees: all of them on a terminal, one every ~10 % in plain (CI) output.

export interface ProgressOptions {
  /** Where lines go (a stage's deps.progress). */
  report: (message: string) => void;
  /** What is expected: ninja knows it; make's comes from the last build or an estimate ("~" in the line). */
  total?: number;
  /** The total is an estimate (shown as ~N; the percentage stays below 100 until the work says it ended). */
  estimated?: boolean;
  /** Without a total, every Nth item is shown. */
  everyWithoutTotal?: number;
  now?: () => number;
}

export interface Progress {
  /** `done` items so far (ninja says it; make's are counted); `total` when the work itself says it. */
  update(done: number, what: string, total?: number): void;
  /** Items counted so far. */
  readonly done: number;
}

/** No estimate before this share of the work: the first objects say little about the rest. */
const MIN_SHARE_FOR_ESTIMATE = 0.03;

export function createProgress(options: ProgressOptions): Progress {
  const now = options.now ?? (() => performance.now());
  const began = now();
  let lastPercent = -1;
  let done = 0;
  return {
    get done() {
      return done;
    },
    update(n, what, total) {
      done = n;
      const expected = total ?? options.total;
      if (!expected) {
        const every = options.everyWithoutTotal ?? 25;
        if (n % every === 1 || every === 1) options.report(`[${n}] ${what}`);
        return;
      }
      const estimated = total === undefined && options.estimated === true;
      const percent = percentOf(n, expected, estimated);
      if (percent === lastPercent) return;
      lastPercent = percent;
      const elapsedMs = now() - began;
      const left = n >= expected * MIN_SHARE_FOR_ESTIMATE && n > 0 && n < expected ? ` ${formatLeft((elapsedMs * (expected - n)) / n)}` : "";
      options.report(`[${n}/${estimated ? "~" : ""}${expected}] ${percent}%${left} ${what}`);
    },
  };
}

/** 0..100; an estimated total that was passed shows 99 % until the work ends. */
export function percentOf(done: number, total: number, estimated = false): number {
  const p = Math.floor((100 * done) / total);
  return estimated || done < total ? Math.min(p, 99) : Math.min(p, 100);
}

/** "~40 s left", "~3 min 20 s left". */
export function formatLeft(ms: number): string {
  const s = Math.max(1, Math.round(ms / 1000));
  if (s < 60) return `~${s} s left`;
  const m = Math.floor(s / 60);
  const rest = s % 60;
  return `~${m} min${rest ? ` ${rest} s` : ""} left`;
}

/** What a progress line says, parsed back (the plain view keeps one line per ~10 %). */
export function parseProgressLine(line: string): { done: number; total?: number; percent?: number } | undefined {
  const m = /^\[(\d+)(?:\/~?(\d+)\] (\d+)%|\])/.exec(line);
  if (!m) return undefined;
  return m[2] ? { done: Number(m[1]), total: Number(m[2]), percent: Number(m[3]) } : { done: Number(m[1]) };
}

/**
 * The plain (CI) view of a stage's progress: a line when the percentage enters a new tenth; anything else
 * as it comes (a count without a total is already one line in 25, and a guest's "[71] ..." is not ours).
 */
export function plainProgress(report: (message: string) => void, step = 10): (message: string) => void {
  let lastBucket = -1;
  return (message) => {
    const p = parseProgressLine(message);
    if (p?.percent === undefined) return report(message);
    if (p.percent + step < lastBucket * step) lastBucket = -1; // another count began (configure, then ninja)
    const bucket = Math.floor(p.percent / step);
    if (bucket <= lastBucket) return;
    lastBucket = bucket;
    report(message);
  };
}
