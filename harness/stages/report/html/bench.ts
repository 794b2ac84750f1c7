// The benchmark figures guest tests report (`# metric: <name> <value> <unit>`), read back into series:
// <path>[.qd<N>].<size>.<figure> (sva.qd1.64B.req_per_s, af_alg.qd8.4KiB.p50_us, user_queue.64B.req_per_s),
// <path>.procs<N>.<size>.req_per_s (processes on one device) and speedup[_p50][.qd<N>].<size>.

export interface Metric {
  test: string;
  name: string;
  value: number;
  unit: string;
}

export interface SizePoint {
  test: string;
  path: string;
  depth?: number;
  size: string;
  figure: string;
  value: number;
}

export interface Bench {
  /** req_per_s, p50_us, p99_us per path, depth and size. */
  points: SizePoint[];
  /** Processes on one device: path, count, size, requests per second (all of them together). */
  procs: { test: string; path: string; procs: number; size: string; value: number }[];
  speedups: { test: string; kind: "throughput" | "p50"; depth?: number; size: string; value: number }[];
  /** Every metric, for the table. */
  all: Metric[];
}

const POINT = /^([a-z][a-z0-9_]*)\.(?:qd(\d+)\.)?(\d+(?:B|KiB|MiB))\.([a-z0-9_]+)$/;
const PROCS = /^([a-z][a-z0-9_]*)\.procs(\d+)\.(\d+(?:B|KiB|MiB))\.req_per_s$/;
const SPEEDUP = /^speedup(_p50)?(?:\.qd(\d+))?\.(\d+(?:B|KiB|MiB))$/;

export function benchOf(tests: { suite: string; name: string; metrics?: Record<string, { value: number; unit: string }> }[]): Bench {
  const bench: Bench = { points: [], procs: [], speedups: [], all: [] };
  for (const t of tests) {
    const test = `${t.suite}/${t.name}`;
    for (const [name, m] of Object.entries(t.metrics ?? {})) {
      if (typeof m?.value !== "number" || !Number.isFinite(m.value)) continue;
      bench.all.push({ test, name, value: m.value, unit: m.unit });
      let x: RegExpExecArray | null;
      if ((x = SPEEDUP.exec(name))) {
        bench.speedups.push({ test, kind: x[1] ? "p50" : "throughput", ...(x[2] ? { depth: Number(x[2]) } : {}), size: x[3]!, value: m.value });
      } else if ((x = PROCS.exec(name))) {
        bench.procs.push({ test, path: x[1]!, procs: Number(x[2]), size: x[3]!, value: m.value });
      } else if ((x = POINT.exec(name))) {
        bench.points.push({ test, path: x[1]!, ...(x[2] ? { depth: Number(x[2]) } : {}), size: x[3]!, figure: x[4]!, value: m.value });
      }
    }
  }
  return bench;
}

/** Sizes in byte order: 64B, 4KiB, 64KiB. */
export function sizeOrder(a: string, b: string): number {
  return bytes(a) - bytes(b);
}

function bytes(size: string): number {
  const m = /^(\d+)(B|KiB|MiB)$/.exec(size);
  if (!m) return 0;
  return Number(m[1]) * (m[2] === "KiB" ? 1024 : m[2] === "MiB" ? 1 << 20 : 1);
}

const PATH_NAMES: Record<string, string> = { af_alg: "AF_ALG", user_queue: "user queue", sva: "SVA queue" };

export function pathName(path: string, depth?: number): string {
  return `${PATH_NAMES[path] ?? path}${depth !== undefined ? ` qd${depth}` : ""}`;
}

/**
 * The figures worth a line in the summary: for each size, the accelerator path's requests per second
 * against AF_ALG's and the speed-up (one request in flight where depths were measured), and the most
 * processes on one device.
 */
export function headlineFigures(bench: Bench): string[] {
  const lines: string[] = [];
  const rps = bench.points.filter((p) => p.figure === "req_per_s" && (p.depth === undefined || p.depth === 1));
  const sizes = [...new Set(rps.map((p) => p.size))].sort(sizeOrder);
  const parts: string[] = [];
  for (const size of sizes) {
    const alg = rps.find((p) => p.size === size && p.path === "af_alg");
    const fast = rps.find((p) => p.size === size && p.path !== "af_alg");
    if (!alg || !fast) continue;
    const depth = fast.depth !== undefined ? fast.depth : undefined;
    const speedup = bench.speedups.find((s) => s.kind === "throughput" && s.size === size && (s.depth ?? 1) === (depth ?? 1))?.value ?? fast.value / alg.value;
    parts.push(`${size} ${fmt(fast.value)} vs ${fmt(alg.value)} req/s (${speedup.toFixed(1)}x)`);
  }
  if (parts.length > 0) {
    const fastPath = rps.find((p) => p.path !== "af_alg")!;
    lines.push(`bench: ${pathName(fastPath.path)} vs AF_ALG${fastPath.depth !== undefined ? ", 1 in flight" : ""}: ${parts.join("; ")}`);
  }
  if (bench.procs.length > 1) {
    const procs = [...bench.procs].sort((a, b) => a.procs - b.procs);
    lines.push(`bench: ${procs.map((p) => `${p.procs} process${p.procs > 1 ? "es" : ""} ${fmt(p.value)} req/s`).join(", ")} (${procs[0]!.size}, one device)`);
  }
  return lines;
}

export function fmt(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString("en-US") : String(Number(n.toPrecision(3)));
}
