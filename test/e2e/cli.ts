// The harness's command line as the e2e tests drive it: `npx tsx harness/cli/main.ts ...` from the repository,
// with CI=1 (plain progress), never throwing; the run folder is the one the command names on its last lines.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { repoRoot } from "../../harness/lib/paths.ts";

export interface CliRun {
  exitCode: number;
  output: string;
  /** "" when the command named no run folder */
  runDir: string;
  ms: number;
}

/** The command with extra environment variables (e.g. WDH_LAVA_MODE, LAVA_TOKEN). */
export async function cliWithEnv(env: Record<string, string>, ...args: string[]): Promise<CliRun> {
  const started = Date.now();
  const r = await execa("npx", ["tsx", "harness/cli/main.ts", ...args], { cwd: repoRoot, reject: false, all: true, env: { CI: "1", ...env } });
  const output = r.all ?? "";
  return { exitCode: r.exitCode ?? -1, output, runDir: /run folder: (.*)/.exec(output)?.[1]?.trim() ?? "", ms: Date.now() - started };
}

export function cli(...args: string[]): Promise<CliRun> {
  return cliWithEnv({}, ...args);
}

/** A JSON file of a run folder (results.json, manifest.json). */
export function runJson(runDir: string, file: string) {
  return JSON.parse(readFileSync(join(runDir, file), "utf8"));
}

/**
 * Timeouts near what each e2e test needs. Warm, no e2e test takes more than a few minutes (the default in
 * vitest.config.ts: 10 min). A test that may be the first to build its configuration gets a cold build on
 * top: the cold 6.12 builds measured on a loaded 2-core machine took 13-17 min, QEMU's 12.
 */
export const COLD_KERNEL = { timeout: 40 * 60_000 };
export const COLD_QEMU = { timeout: 40 * 60_000 };
export const COLD_KERNEL_AND_QEMU = { timeout: 70 * 60_000 };
/** Several incremental builds of one configuration (a bisection's points). */
export const BUILDS = { timeout: 25 * 60_000 };
