// What a command's steps share: the job, the run folder, the deps, and each stage's output so far.
import type { Job } from "../config/resolve.ts";
import type { RunFolder } from "../lib/run-folder.ts";
import type { Deps, StageResult } from "../lib/stage.ts";
import type { SshSession } from "../lib/ssh.ts";
import type { BuildArtifacts } from "../stages/build/build.ts";
import type { TestResult } from "../stages/guest/run.ts";
import type { KernelConfig } from "../stages/kconfig/kconfig.ts";
import type { LiveGuest } from "../stages/qemu/boot.ts";
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
  run: RunFolder;
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
  guest?: LiveGuest;
  session?: SshSession;
  tests?: TestResult[];
  /** The first stage that failed; later stages are skipped with its reason. */
  failure?: StageResult<unknown>;
  /** An infrastructure fault or a bug: thrown again once cleanup steps ran. */
  error?: unknown;
  /** Extra result files a step wants in results.json. */
  bootReadyMs?: number;
  sshReadyMs?: number;
}

/** One step of a command: a stage run over the context. */
export interface Step {
  title: string;
  /** Runs even after a failure (shutdown, report). */
  always?: boolean;
  run: (ctx: Context, progress: (message: string) => void) => Promise<StageResult<unknown> | void>;
}
