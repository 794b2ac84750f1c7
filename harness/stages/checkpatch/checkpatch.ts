// Stage "checkpatch": the tree's own scripts/checkpatch.pl over every patch of the series, one verdict per
// patch. Results are cached by the patch's and the script's hashes, so a second run of the same series
// costs nothing. Whether errors stop the run is the caller's choice (report or enforce).
import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { writeFileAtomically } from "../../lib/atomic.ts";
import { cacheDir, sha256 } from "../../lib/paths.ts";
import { failed, passed, type Deps, type StageResult } from "../../lib/stage.ts";

export type CheckpatchMode = "off" | "report" | "enforce";

export interface CheckpatchVerdict {
  file: string;
  series: string;
  errors: number;
  warnings: number;
  checks: number;
  /** "ERROR: TYPE: message" lines with their "#line: FILE:N" locations, as checkpatch printed them. */
  messages: string[];
  verdict: "clean" | "warnings" | "errors";
}

export interface CheckpatchInput {
  treeDir: string;
  patches: { series: string; file: string }[];
  mode: Exclude<CheckpatchMode, "off">;
  logFile: string;
  /** Whose checkpatch.pl: the kernel's, or QEMU's fork (other options, no CHECK level). */
  flavour?: "linux" | "qemu";
}

// The options a kernel maintainer's review uses; --strict adds CHECKs (counted, never fatal).
const ARGS = {
  linux: ["--no-color", "--show-types", "--strict", "--summary-file"],
  // QEMU's fork (0.31): no --show-types, and its --strict only changes the exit code.
  qemu: ["--color=never", "--summary-file"],
};

export async function runCheckpatch(input: CheckpatchInput, deps: Deps): Promise<StageResult<CheckpatchVerdict[]>> {
  const started = performance.now();
  const script = join(input.treeDir, "scripts/checkpatch.pl");
  if (!existsSync(script)) {
    return passed("checkpatch", started, [], { status: "warn", reason: "this tree has no scripts/checkpatch.pl" });
  }
  const scriptHash = sha256(readFileSync(script));
  const args = ARGS[input.flavour ?? "linux"];
  const verdicts: CheckpatchVerdict[] = [];
  for (const [i, patch] of input.patches.entries()) {
    const text = readFileSync(patch.file);
    const cacheFile = join(cacheDir("checkpatch"), `${sha256(JSON.stringify([scriptHash, args, sha256(text)])).slice(0, 32)}.txt`);
    let output: string;
    if (existsSync(cacheFile)) output = readFileSync(cacheFile, "utf8");
    else {
      // checkpatch exits 1 when it finds anything: that is its answer, not a failure to run.
      const r = await deps.exec("perl", [script, ...args, patch.file], { cwd: input.treeDir, allowFailure: true, signal: deps.signal, logFile: input.logFile });
      output = r.stdout;
      if (!/total: \d+ errors/.test(output)) {
        return failed("checkpatch", started, `checkpatch.pl did not finish on ${basename(patch.file)} (exit ${r.exitCode})`, {
          details: r.stderr.trim().split("\n").slice(-5),
          logFile: input.logFile,
          output: verdicts,
        });
      }
      writeFileAtomically(cacheFile, output);
    }
    const v = parseCheckpatch(output, patch);
    verdicts.push(v);
    deps.progress(`${i + 1}/${input.patches.length} ${basename(patch.file)}: ${countsOf(v)}`);
  }
  const withErrors = verdicts.filter((v) => v.errors > 0);
  const withWarnings = verdicts.filter((v) => v.warnings > 0);
  const reason = `${input.patches.length} patches: ${verdicts.filter((v) => v.verdict === "clean").length} clean, ${withWarnings.length} with warnings, ${withErrors.length} with errors`;
  const details = verdicts.filter((v) => v.verdict !== "clean").map((v) => `${basename(v.file)}: ${countsOf(v)}; ${v.messages[0] ?? ""}`);
  if (withErrors.length > 0 && input.mode === "enforce") {
    return failed("checkpatch", started, `checkpatch: ${withErrors.length} patch(es) with errors (--checkpatch enforce)`, {
      details,
      output: verdicts,
      logFile: input.logFile,
    });
  }
  const status = withErrors.length + withWarnings.length > 0 ? "warn" : "pass";
  return passed("checkpatch", started, verdicts, { status, reason, details, logFile: input.logFile });
}

export function parseCheckpatch(output: string, patch: { series: string; file: string }): CheckpatchVerdict {
  const total = /total: (\d+) errors, (\d+) warnings(?:, (\d+) checks)?/m.exec(output);
  const [errors, warnings, checks] = [Number(total?.[1] ?? 0), Number(total?.[2] ?? 0), Number(total?.[3] ?? 0)];
  const lines = output.split("\n");
  const messages: string[] = [];
  for (const [i, line] of lines.entries()) {
    if (!/^(ERROR|WARNING|CHECK):/.test(line)) continue;
    const where = /^#\d+: FILE: (.+?):?$/.exec(lines[i + 1] ?? "")?.[1];
    messages.push(where ? `${line} (${where})` : line);
  }
  return { file: patch.file, series: patch.series, errors, warnings, checks, messages, verdict: errors > 0 ? "errors" : warnings > 0 ? "warnings" : "clean" };
}

export function countsOf(v: Pick<CheckpatchVerdict, "errors" | "warnings" | "checks">): string {
  return `${v.errors} errors, ${v.warnings} warnings, ${v.checks} checks`;
}
