// From a profile (and command-line overrides) to the typed inputs the stages take. Names are looked up
// in the repository's folders (kernel-config/, patches/, qemu/, guest-tests/); paths are taken as given.
import { existsSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { UsageError } from "../lib/errors.ts";
import { repoRoot } from "../lib/paths.ts";
import type { TreeSpec } from "../stages/tree/tree.ts";
import type { SeriesPatch } from "../stages/series/series.ts";
import { loadSuites, type Suite } from "../stages/guest/suites.ts";
import { loadYaml } from "./load.ts";
import { MachineSchema, ProfileSchema, SeriesManifestSchema, type MachineDef, type Profile, type SeriesManifest } from "./schema.ts";

export const defaultProfilePath = join(repoRoot, "profiles/default.yaml");

export interface Overrides {
  profile?: string;
  tree?: string;
  series?: string[];
  fragments?: string[];
  machine?: string;
  tests?: string[];
}

export interface Job {
  profile: Profile;
  profileFile: string;
  tree: TreeSpec;
  series: { name: string; dir: string; manifest: SeriesManifest }[];
  patches: SeriesPatch[];
  fragments: string[];
  machine: MachineDef;
  machineFile: string;
  suites: Suite[];
}

export function loadProfile(overrides: Overrides): { profile: Profile; file: string } {
  const file = overrides.profile ? resolve(overrides.profile) : defaultProfilePath;
  const loaded = loadYaml(ProfileSchema, file);
  const profile: Profile = {
    ...loaded,
    ...(overrides.tree ? { tree: { path: overrides.tree } } : {}),
    ...(overrides.series ? { series: overrides.series } : {}),
    ...(overrides.fragments ? { kconfig: { ...loaded.kconfig, fragments: overrides.fragments } } : {}),
    ...(overrides.machine ? { machine: overrides.machine } : {}),
    ...(overrides.tests ? { tests: overrides.tests } : {}),
  };
  return { profile, file };
}

export function resolveJob(overrides: Overrides): Job {
  const { profile, file } = loadProfile(overrides);
  const series = profile.series.map((name) => loadSeries(name));
  const machineFile = byNameOrPath(profile.machine, "qemu", ".yaml", "machine");
  return {
    profile,
    profileFile: file,
    tree: "debian" in profile.tree ? { kind: "debian", package: profile.tree.debian } : { kind: "path", path: profile.tree.path },
    series,
    patches: series.flatMap((s) => s.manifest.patches.map((p) => ({ series: s.name, file: join(s.dir, p) }))),
    fragments: profile.kconfig.fragments.map((f) => byNameOrPath(f, "kernel-config", ".config", "Kconfig fragment")),
    machine: loadYaml(MachineSchema, machineFile),
    machineFile,
    suites: loadSuites(profile.tests),
  };
}

export function loadSeries(nameOrPath: string): { name: string; dir: string; manifest: SeriesManifest } {
  const dir = byNameOrPath(nameOrPath, "patches", "", "series");
  const manifest = loadYaml(SeriesManifestSchema, join(dir, "series.yaml"));
  for (const p of manifest.patches) {
    if (!existsSync(join(dir, p))) throw new UsageError(`${dir}/series.yaml lists ${p}, which is not in the folder`);
  }
  return { name: manifest.name, dir, manifest };
}

/** "crypto" means kernel-config/crypto.config; anything with a slash is a path. */
function byNameOrPath(value: string, folder: string, ext: string, what: string): string {
  const path = value.includes("/") ? (isAbsolute(value) ? value : resolve(value)) : join(repoRoot, folder, `${value}${ext}`);
  if (!existsSync(path)) throw new UsageError(`${what} "${value}": ${path} does not exist`);
  return path;
}
