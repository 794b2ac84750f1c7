// Stage "qemu check": QEMU's own tests for what the QEMU series adds (qtests, built by the build step),
// run against the built emulator with TAP output. A failing qtest fails the run like a failing guest
// test: the emulator the kernel is about to be judged on does not do what it claims. Results are
// cached by the build's key, so a run on a cached QEMU does not run them again.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomically } from "../../lib/atomic.ts";
import { cacheDir } from "../../lib/paths.ts";
import { failed, passed, type Deps, type StageResult } from "../../lib/stage.ts";
import { parseTap, tapVerdict, type TapPoint } from "../report/tap.ts";

export interface QemuCheckInput {
  buildDir: string;
  binary: string;
  /** The build's key: a cached verdict is reused only for the very same build. */
  buildKey: string;
  /** qtest names: tests/qtest/<name> in the build dir. */
  tests: string[];
  timeoutMs: number;
  logFile: string;
}

export interface QtestResult {
  name: string;
  status: "pass" | "fail" | "skip";
  reason?: string;
  points: { name: string; status: TapPoint["status"]; directive?: string }[];
  durationMs: number;
  argv: string[];
  cached: boolean;
}

export function qtestPath(buildDir: string, name: string): string {
  return join(buildDir, "tests", "qtest", name);
}

export function qtestArgv(input: Pick<QemuCheckInput, "buildDir">, name: string): string[] {
  return [qtestPath(input.buildDir, name), "--tap", "-k"];
}

export async function checkQemu(input: QemuCheckInput, deps: Deps): Promise<StageResult<QtestResult[]>> {
  const started = performance.now();
  const results: QtestResult[] = [];
  for (const name of input.tests) {
    const cacheFile = join(cacheDir("qemu-check"), `${input.buildKey}-${name}.json`);
    if (existsSync(cacheFile)) {
      results.push({ ...(JSON.parse(readFileSync(cacheFile, "utf8")) as QtestResult), cached: true });
      continue;
    }
    const argv = qtestArgv(input, name);
    if (!existsSync(argv[0]!)) {
      results.push({
        name,
        status: "fail",
        reason: `${argv[0]} was not built (is ${name} a qtest of this QEMU tree?)`,
        points: [],
        durationMs: 0,
        argv,
        cached: false,
      });
      continue;
    }
    deps.progress(`qtest ${name}`);
    const t0 = performance.now();
    const r = await deps.exec(argv[0]!, argv.slice(1), {
      cwd: input.buildDir,
      env: { QTEST_QEMU_BINARY: input.binary, MALLOC_PERTURB_: "23" },
      signal: deps.signal,
      logFile: input.logFile,
      timeoutMs: input.timeoutMs,
      allowFailure: true,
      onLine: (line) => {
        const m = /^(not ok|ok) (\d+) (\S+)/.exec(line);
        if (m) deps.progress(`qtest ${name}: ${m[1]} ${m[2]} ${m[3]}`);
      },
    });
    const report = parseTap(r.stdout);
    const verdict = tapVerdict(report, r.exitCode);
    const result: QtestResult = {
      name,
      status: report.points.length === 0 && verdict.status === "pass" ? "fail" : verdict.status,
      reason: report.points.length === 0 ? `no TAP points (exit ${r.exitCode})` : verdict.reason,
      points: flatten(report.points).map((p) => ({ name: p.name, status: p.status, ...(p.directive ? { directive: p.directive } : {}) })),
      durationMs: Math.round(performance.now() - t0),
      argv,
      cached: false,
    };
    // Only a pass is remembered: a failure must be seen again until the build changes.
    if (result.status === "pass") writeFileAtomically(cacheFile, JSON.stringify(result, null, 2));
    results.push(result);
  }
  const bad = results.filter((r) => r.status !== "pass");
  const points = results.reduce((n, r) => n + r.points.length, 0);
  const cached = results.every((r) => r.cached) && results.length > 0 ? " (cached for this build)" : "";
  if (bad.length > 0) {
    return failed("qemu-check", started, `qtest ${bad.map((b) => b.name).join(", ")} failed: ${bad[0]!.reason ?? bad[0]!.status}`, {
      details: bad.flatMap((b) => b.points.filter((p) => p.status === "fail").map((p) => `${b.name}: not ok ${p.name}`)).slice(0, 20),
      output: results,
      logFile: input.logFile,
    });
  }
  return passed("qemu-check", started, results, { reason: `${results.length} qtests, ${points} points passed${cached}` });
}

function flatten(points: TapPoint[]): TapPoint[] {
  return points.flatMap((p) => [p, ...flatten(p.subtests ?? [])]);
}
