// What a command's steps share: the job, the run folder, the deps, and each stage's output so far.
import type { Job } from "../config/resolve.ts";
import type { RunFolder } from "../lib/run-folder.ts";
import type { RunManifest } from "./manifest.ts";
import type { Deps, StageId, StageResult } from "../lib/stage.ts";
import type { BuildArtifacts } from "../stages/build/build.ts";
import type { KernelConfig } from "../stages/kconfig/kconfig.ts";
import type { Executor, GuestRun } from "../executors/types.ts";
import type { Rootfs } from "../stages/rootfs/rootfs.ts";
import type { AppliedSeries } from "../stages/series/series.ts";
import type { CheckpatchVerdict } from "../stages/checkpatch/checkpatch.ts";
import type { KernelTree } from "../stages/tree/tree.ts";
import type { QemuTree } from "../stages/qemu-build/source.ts";
import type { QemuBuild } from "../stages/qemu-build/build.ts";
import type { QtestResult } from "../stages/qemu-build/check.ts";

/** The QEMU the harness built for this run's machine, stage by stage. */
export interface QemuState {
  tree: QemuTree;
  series?: AppliedSeries;
  checkpatch?: CheckpatchVerdict[];
  build?: QemuBuild;
  checks?: QtestResult[];
  /** Gives back this run's hold on the QEMU tree (once). */
  release?: () => void;
}

export interface Context {
  job: Job;
  /** How the run was started (`npm run boot-test -- ...`, paths absolute), for reproduce.sh. */
  commandLine?: string[];
  run: RunFolder<RunManifest>;
  deps: Deps;
  tree?: KernelTree;
  /** The out-of-tree build dir kept for this tree (and architecture). */
  buildDir?: string;
  /**
   * Releases this run's hold on the tree: taken before the series is checked out, given back once QEMU
   * has loaded the kernel (or when the command ends), so a concurrent run cannot swap the sources or the
   * build under it.
   */
  releaseTree?: () => void;
  /** The tree is already held for this run by its caller (a bisection holds it across all its points). */
  treeHeld?: boolean;
  series?: AppliedSeries;
  checkpatch?: CheckpatchVerdict[];
  config?: KernelConfig;
  qemu?: QemuState;
  /** The kernel Image, vmlinux and QEMU binary as kept in the artifact store (what the boot uses). */
  kernelImage?: string;
  vmlinux?: string;
  qemuBinary?: string;
  build?: BuildArtifacts;
  rootfs?: Rootfs;
  /** The executors by name (default: executors/index.ts's registry; tests pass fakes). */
  executors?: Readonly<Record<string, Executor>>;
  /** What the executor brought back: console, findings, tests, timings (on success and on failure). */
  guestRun?: GuestRun;
  /** The first stage that failed; later stages are skipped with its reason. */
  failure?: StageResult<unknown>;
  /** A fault that was thrown (a usage error, the machinery, a bug, an interruption), and the stage it came from. */
  error?: unknown;
  errorStage?: StageId;
}

/** One step of a command: a stage run over the context. */
export interface Step {
  id: StageId;
  title: string;
  /** Runs even after a failure (shutdown, report). */
  always?: boolean;
  /** One stage's result, or several (an executor's boot, ssh, guest and shutdown phases). */
  run: (ctx: Context, progress: (message: string) => void) => Promise<StageResult<unknown> | StageResult<unknown>[] | void>;
}

/**
 * What an earlier step put in the context for this one (the tree, the build, the rootfs, ...). Steps run
 * in a fixed order and skip after a failure, so its absence is a bug in that order, said as one, never a
 * `TypeError` on `undefined` somewhere below.
 */
export function need<K extends keyof Context>(ctx: Context, key: K): NonNullable<Context[K]> {
  const value = ctx[key];
  if (value === undefined || value === null) throw new Error(`bug: a step needs ctx.${String(key)}, which no earlier step produced`);
  return value as NonNullable<Context[K]>;
}
