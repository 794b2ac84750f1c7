// The run folder runs/<id>/: everything one run asked for and everything that happened, written as the
// run goes, so a killed run still leaves its evidence.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./paths.ts";
import type { StageResult } from "./stage.ts";

/** What every manifest.json has; a command's own manifest type (commands/manifest.ts) adds its fields. */
export interface ManifestBase {
  id: string;
  command: string;
  startedAt: string;
  finishedAt?: string;
  exitCode?: number;
}

export interface RunFolder<M extends ManifestBase = ManifestBase & Record<string, unknown>> {
  id: string;
  dir: string;
  file: (name: string) => string;
  /** As written so far: every field but the base ones may still be missing (a run killed early). */
  manifest: Partial<M> & ManifestBase;
  stages: Omit<StageResult<unknown>, "output">[];
  recordStage: (r: StageResult<unknown>) => void;
  set: <K extends keyof M & string>(key: K, value: M[K]) => void;
  write: () => void;
}

export function createRunFolder<M extends ManifestBase = ManifestBase & Record<string, unknown>>(
  command: string,
  root = process.env.WDH_RUNS_DIR ?? join(repoRoot, "runs"),
): RunFolder<M> {
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "");
  const id = `${stamp}-${command}-${process.pid}`;
  const dir = join(root, id);
  mkdirSync(dir, { recursive: true });
  const manifest = { id, command, startedAt: new Date().toISOString() } as Partial<M> & ManifestBase;
  const stages: RunFolder<M>["stages"] = [];
  const run: RunFolder<M> = {
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
      (manifest as Partial<M>)[key] = value;
      run.write();
    },
    write: () => writeFileSync(join(dir, "manifest.json"), JSON.stringify({ ...manifest, stages }, null, 2) + "\n"),
  };
  run.write();
  return run;
}
