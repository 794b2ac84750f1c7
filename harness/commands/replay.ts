// replay: boot exactly what a run folder records (kernel Image, initramfs and QEMU from the artifact
// store, the machine as it was, the guest tests as they were built) and run those tests again, with no
// build: the quickest answer to "is this flaky?". prune: drop old run folders and the store entries no
// kept run names.
import { existsSync, lstatSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Job } from "../config/resolve.ts";
import type { MachineDef, Profile } from "../config/schema.ts";
import { InfraError, UsageError } from "../lib/errors.ts";
import { realDeps } from "../lib/deps.ts";
import { createRunFolder } from "../lib/run-folder.ts";
import { repoRoot } from "../lib/paths.ts";
import { inStore, pruneStore } from "../lib/store.ts";
import type { BuildArtifacts } from "../stages/build/build.ts";
import type { GuestTest } from "../stages/guest/suites.ts";
import type { Rootfs } from "../stages/rootfs/rootfs.ts";
import { bootSteps } from "./boot-steps.ts";
import type { RunManifest } from "./manifest.ts";
import type { Context, Step } from "./context.ts";

interface RecordedRun {
  artifacts?: Record<string, { path: string; sha256: string }>;
  machineDef?: MachineDef;
  guestTests?: GuestTest[];
  profile?: Profile;
  tree?: { path: string };
  kernel?: { release: string };
  /** The series' and the profile's kernel parameters the run booted with (after the machine's). */
  inputs?: { append?: string[] };
}

export function readRecordedRun(runDir: string): RecordedRun {
  const file = join(runDir, "manifest.json");
  if (!existsSync(file)) throw new UsageError(`${runDir} is not a run folder (no manifest.json)`);
  return JSON.parse(readFileSync(file, "utf8")) as RecordedRun;
}

/** A context that has what the boot and test steps need, taken from the recorded run, not from a build. */
export function replayContext(runDir: string, signal: AbortSignal): Context {
  const dir = resolve(runDir);
  const m = readRecordedRun(dir);
  const a = m.artifacts ?? {};
  if (!m.machineDef || !m.guestTests || !m.profile || !a.Image || !a.initramfs) {
    throw new UsageError(`${dir} does not record what it booted (a run from before the artifact store, or one that ended before the boot)`, [
      "replay needs manifest.json's artifacts (Image, initramfs), machineDef and guestTests; run the job again with the harness (reproduce.sh)",
    ]);
  }
  const gone = Object.entries(a).filter(([, x]) => inStore(x.path) && !existsSync(x.path));
  if (gone.length > 0) {
    throw new InfraError(`the artifact store no longer has what ${dir} booted: ${gone.map(([n]) => n).join(", ")}`, [
      ...gone.map(([n, x]) => `${n}: ${x.path} is gone (pruned, or the cache was wiped)`),
      "run the job again with the harness: see the harness line of its reproduce.sh",
    ]);
  }
  const run = createRunFolder<RunManifest>("replay");
  run.set("replayOf", dir);
  run.set("profile", m.profile);
  const tree = m.tree?.path ?? "";
  const build = { treeDir: tree, image: a.Image.path, vmlinux: a.vmlinux?.path ?? "", kernelRelease: m.kernel?.release ?? "" } as BuildArtifacts;
  const rootfs = { initrd: a.initramfs.path, initrdSha256: a.initramfs.sha256, parts: [], tests: m.guestTests, debs: [] } as Rootfs;
  const job = {
    profile: m.profile,
    profileFile: join(dir, "manifest.json"),
    machine: m.machineDef,
    machineFile: "",
    suites: [],
    series: [],
    fragments: [],
    append: m.inputs?.append ?? [],
  } as unknown as Job;
  run.set("artifacts", a);
  return {
    job,
    run,
    deps: realDeps({ signal, logFile: run.file("harness.log") }),
    build,
    rootfs,
    kernelImage: a.Image.path,
    vmlinux: a.vmlinux?.path,
    qemuBinary: a.qemu?.path,
  };
}

/** Boot, SSH, guest tests and shutdown: the steps of boot-test that need no build. */
export const replaySteps: Step[] = bootSteps.filter((s) => s.title !== "Rootfs");

export interface PruneResult {
  kept: string[];
  removedRuns: string[];
  removedArtifacts: string[];
  bytes: number;
}

/** Keep the newest `keep` run folders; drop older ones, then every store entry no kept run names. */
export function pruneRuns(keep: number, root = process.env.WDH_RUNS_DIR ?? join(repoRoot, "runs")): PruneResult {
  // Newest first by when each run started (its manifest says), not by folder name: a folder named by
  // hand ("replay-broken-1") sorts after every timestamped id and would be kept instead of real runs.
  const runs = existsSync(root)
    ? readdirSync(root)
        .filter((n) => existsSync(join(root, n, "manifest.json")))
        .map((n) => ({ n, t: startedAt(join(root, n)) }))
        .sort((a, b) => b.t - a.t || (a.n < b.n ? 1 : -1))
        .map((x) => x.n)
    : [];
  const kept = runs.slice(0, keep);
  const removedRuns = runs.slice(keep);
  let bytes = 0;
  for (const name of removedRuns) {
    bytes += du(join(root, name));
    rmSync(join(root, name), { recursive: true, force: true });
  }
  const referenced = new Set<string>();
  for (const name of kept)
    for (const manifest of manifestsUnder(join(root, name))) {
      const artifacts = (JSON.parse(readFileSync(manifest, "utf8")) as RecordedRun).artifacts ?? {};
      for (const x of Object.values(artifacts)) referenced.add(x.path);
    }
  const store = pruneStore(referenced);
  return { kept, removedRuns, removedArtifacts: store.removed, bytes: bytes + store.bytes };
}

/** When a run started: its manifest's startedAt, else the manifest file's modification time. */
function startedAt(dir: string): number {
  const file = join(dir, "manifest.json");
  try {
    const t = Date.parse((JSON.parse(readFileSync(file, "utf8")) as { startedAt?: string }).startedAt ?? "");
    if (!Number.isNaN(t)) return t;
  } catch {
    // a manifest cut short by a crash: its file time is the best we have
  }
  return statSync(file).mtimeMs;
}

/** A bisection's folder holds a run folder per step: their artifacts count as the bisection's. */
function manifestsUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...manifestsUnder(p));
    else if (e.name === "manifest.json") out.push(p);
  }
  return out;
}

function du(path: string): number {
  const st = lstatSync(path); // artifacts/include is a symlink into a build dir: not ours to count

  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((n, name) => n + du(join(path, name)), 0);
}
