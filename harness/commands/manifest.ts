// manifest.json of a pipeline run (build-kernel, boot-test, replay, a bisection point): one type for what
// the steps record, field by field, so a reader (replay, bisect, prune, kcidb) knows what it gets.
import type { Profile, MachineDef } from "../config/schema.ts";
import type { SeriesSpec, TreeSpec } from "../config/specs.ts";
import type { ManifestBase } from "../lib/run-folder.ts";
import type { Stored } from "../lib/store.ts";
import type { BuildArtifacts } from "../stages/build/build.ts";
import type { CheckpatchVerdict } from "../stages/checkpatch/checkpatch.ts";
import type { GuestTest } from "../stages/guest/suites.ts";
import type { QemuBuild } from "../stages/qemu-build/build.ts";
import type { QtestResult } from "../stages/qemu-build/check.ts";
import type { BaseCheck } from "../stages/series/base.ts";
import type { AppliedPatch } from "../stages/series/series.ts";

export type ArtifactName = "Image" | "vmlinux" | "System.map" | ".config" | "initramfs" | "qemu";

export interface RunManifest extends ManifestBase {
  profile: Profile;
  inputs: {
    profile: string;
    tree: TreeSpec;
    series: { name: string; dir: string; base: string; after?: string; source: SeriesSpec["source"] }[];
    fragments: string[];
    machine: string;
    append: string[];
    tests: string[];
  };
  /** Host tools and their versions (first line of --version). */
  tools: Record<string, string>;
  tree: { description: string; path: string; baseCommit: string; kernelVersion: string; fetchArgv?: string[][] };
  seriesSources: { name: string; base: string; after?: string; source: string; patches: number }[];
  baseCheck: BaseCheck;
  series: { base: string; head: string; series: string[]; patches: AppliedPatch[] };
  checkpatch: CheckpatchVerdict[];
  kconfig: { base: string; fragments: { path: string; sha256: string }[]; key: string };
  kernel: { release: string } & Omit<BuildArtifacts, "treeDir">;
  /** What the run booted, in the artifact store (replay and prune read these). */
  artifacts: Partial<Record<ArtifactName, Pick<Stored, "path" | "sha256">>>;
  rootfs: { debs: unknown[]; parts: unknown[]; tests: string[] };
  guestTests: GuestTest[];
  machineDef: MachineDef;
  executor: string;
  qemu: { source: string; path: string; baseCommit: string; version?: string };
  qemuSeries: { base: string; head: string; series: string[]; baseCheck?: BaseCheck; patches: (AppliedPatch & { checkpatch?: string })[] };
  qemuBuild: Omit<QemuBuild, never>;
  qemuCheck: QtestResult[];
  replayOf: string;
}
