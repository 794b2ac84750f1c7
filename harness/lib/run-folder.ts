// The run folder runs/<id>/: everything one run asked for and everything that happened, written as the
// run goes, so a killed run still leaves its evidence.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./paths.ts";
import type { StageResult } from "./stage.ts";

export interface RunFolder {
  id: string;
  dir: string;
  file: (name: string) => string;
  manifest: Record<string, unknown>;
  stages: Omit<StageResult<unknown>, "output">[];
  recordStage: (r: StageResult<unknown>) => void;
  set: (key: string, value: unknown) => void;
  write: () => void;
}

export function createRunFolder(command: string, root = process.env.WDH_RUNS_DIR ?? join(repoRoot, "runs")): RunFolder {
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "");
  const id = `${stamp}-${command}-${process.pid}`;
  const dir = join(root, id);
  mkdirSync(dir, { recursive: true });
  const manifest: Record<string, unknown> = { id, command, startedAt: new Date().toISOString() };
  const stages: RunFolder["stages"] = [];
  const run: RunFolder = {
    id,
    dir,
    file: (name) => join(dir, name),
    manifest,
    stages,
    recordStage: (r) => {
      const { output: _output, ...rest } = r;
      stages.push({ ...rest, durationMs: Math.round(r.durationMs) });
      run.write();
    },
    set: (key, value) => {
      manifest[key] = value;
      run.write();
    },
    write: () => writeFileSync(join(dir, "manifest.json"), JSON.stringify({ ...manifest, stages }, null, 2) + "\n"),
  };
  run.write();
  return run;
}
