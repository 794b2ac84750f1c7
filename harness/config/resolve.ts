// From a profile (and command-line overrides) to the typed inputs the stages take. Names are looked up
// in the repository's folders (kernel-config/, patches/, qemu/, guest-tests/); paths are taken as given.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { UsageError } from "../lib/errors.ts";
import { repoRoot } from "../lib/paths.ts";
import type { SeriesSpec, Suite, TreeSpec } from "./specs.ts";
import { loadSuites } from "./suites.ts";
import { loadYaml } from "./load.ts";
import {
  DEFAULT_QEMU_CONFIGURE,
  MachineSchema,
  ProfileSchema,
  SeriesManifestSchema,
  type MachineDef,
  type Profile,
  type QemuBuildDef,
  type QemuSourceSpec,
  type SeriesManifest,
} from "./schema.ts";

export const defaultProfilePath = join(repoRoot, "profiles/default.yaml");

export interface Overrides {
  profile?: string;
  tree?: string;
  series?: string[];
  /** Series given on the command line by where they are, not by a manifest: added after the profile's. */
  adHoc?: AdHocSeries[];
  fragments?: string[];
  machine?: string;
  tests?: string[];
  ignoreBase?: boolean;
  offline?: boolean;
  checkpatch?: "off" | "report" | "enforce";
  /** A QEMU binary to run instead of the machine's (and instead of building one). */
  qemu?: string;
  /** A QEMU git tree of your own, built as it is instead of the machine's QEMU source and series. */
  qemuTree?: string;
  /** Where the guest runs instead of the machine's `executor:` (local-qemu, lava). */
  executor?: string;
}

export type AdHocSeries = { mbox: string; version?: number } | { lore: string; version?: number } | { git: string; range: string };

export interface Job {
  profile: Profile;
  profileFile: string;
  tree: TreeSpec;
  /** In order of application: a series' `after:` dependencies come before it. */
  series: SeriesSpec[];
  fragments: string[];
  machine: MachineDef;
  machineFile: string;
  /** Kernel parameters after the machine's: each series' (in order of application), then the profile's. */
  append: string[];
  suites: Suite[];
  options: { ignoreBase: boolean; offline: boolean; checkpatch: "off" | "report" | "enforce" };
  /** QEMU the harness builds for this machine; absent when the machine runs a binary from the host. */
  qemu?: QemuJob;
}

export interface QemuJob {
  def: QemuBuildDef;
  source: QemuSourceSpec;
  /** QEMU series in order of application. */
  series: SeriesSpec[];
}

export function loadProfile(overrides: Overrides): { profile: Profile; file: string } {
  const file = overrides.profile ? byNameOrPath(overrides.profile, "profiles", ".yaml", "profile") : defaultProfilePath;
  const loaded = loadYaml(ProfileSchema, file);
  const profile: Profile = {
    ...loaded,
    ...(overrides.tree ? { tree: treeFromFlag(overrides.tree) } : {}),
    ...(overrides.series ? { series: overrides.series } : {}),
    ...(overrides.fragments ? { kconfig: { ...loaded.kconfig, fragments: overrides.fragments } } : {}),
    ...(overrides.machine ? { machine: overrides.machine } : {}),
    ...(overrides.tests ? { tests: overrides.tests } : {}),
  };
  return { profile, file };
}

export function resolveJob(overrides: Overrides): Job {
  const { profile, file } = loadProfile(overrides);
  const series = seriesInOrder(profile.series);
  for (const [i, adHoc] of (overrides.adHoc ?? []).entries()) series.push(adHocSeries(adHoc, i));
  const machineFile = byNameOrPath(profile.machine, "qemu", ".yaml", "machine");
  const machine = loadYaml(MachineSchema, machineFile);
  return {
    profile,
    profileFile: file,
    tree: treeSpec(profile.tree),
    series,
    fragments: [
      ...profile.kconfig.fragments.map((f) => byNameOrPath(f, "kernel-config", ".config", "Kconfig fragment")),
      // a series' own options come with it, so --no-series does not ask for options only its code adds
      ...series.flatMap((s) =>
        (s.manifest.fragments ?? []).map((f) =>
          byNameOrPath(f.includes("/") && !isAbsolute(f) ? join(s.dir, f) : f, "kernel-config", ".config", `Kconfig fragment of series ${s.name}`),
        ),
      ),
    ].filter((f, i, all) => all.indexOf(f) === i),
    machine: {
      ...(overrides.qemu ? { ...machine, binary: resolve(overrides.qemu), qemu: undefined } : machine),
      ...(overrides.executor ? { executor: overrides.executor } : {}),
    },
    machineFile,
    append: [...series.flatMap((s) => s.manifest.append ?? []), ...profile.append],
    qemu: overrides.qemu ? undefined : qemuJob(machine, overrides.qemuTree, machineFile),
    suites: loadSuites(profile.tests),
    options: {
      ignoreBase: overrides.ignoreBase ?? false,
      offline: overrides.offline ?? process.env.WDH_OFFLINE === "1",
      checkpatch: overrides.checkpatch ?? profile.checkpatch,
    },
  };
}

function qemuJob(machine: MachineDef, qemuTree: string | undefined, machineFile: string): QemuJob | undefined {
  const def = machine.qemu;
  if (qemuTree) {
    // Your own tree is built as it is: its HEAD is your series.
    return {
      def: {
        ...(def ?? { configure: DEFAULT_QEMU_CONFIGURE, devices: "all" as const, kconfig: [], ccache: true, check: [], checkTimeout: 300 }),
        source: { path: resolve(qemuTree) },
        series: [],
      },
      source: { kind: "path", path: resolve(qemuTree) },
      series: [],
    };
  }
  if (!def) return undefined;
  const src = def.source;
  const source: QemuSourceSpec =
    "path" in src
      ? { kind: "path", path: resolve(dirname(machineFile), src.path) }
      : { kind: "debian", package: src.debian, version: src.version, suite: src.suite, mirror: src.mirror, keyring: src.keyring };
  return { def, source, series: seriesInOrder(def.series) };
}

function treeSpec(tree: Profile["tree"]): TreeSpec {
  if ("debian" in tree) {
    const fetch =
      tree.suite !== undefined && tree.version !== undefined
        ? { version: tree.version, suite: tree.suite, mirror: tree.mirror, keyring: tree.keyring }
        : undefined;
    return { kind: "debian", package: tree.debian, ...(tree.version !== undefined ? { version: tree.version } : {}), ...(fetch ? { fetch } : {}) };
  }
  if ("git" in tree) return { kind: "git", url: tree.git, ref: tree.ref, depth: tree.depth };
  return { kind: "path", path: tree.path };
}

/** --tree PATH, or --tree URL#REF (https://, git://, ssh://, file://) for a shallow fetch of REF. */
function treeFromFlag(value: string): Profile["tree"] {
  const m = /^((?:https?|git|ssh|file):\/\/[^#]+)#(.+)$/.exec(value);
  if (m) return { git: m[1]!, ref: m[2]!, depth: 1 };
  if (/^(?:https?|git|ssh|file):\/\//.test(value)) throw new UsageError(`--tree ${value}: say which ref to fetch, as URL#REF (e.g. ${value}#v6.12)`);
  return { path: value };
}

/** The profile's series with each one's `after:` chain put before it, each series once. */
export function seriesInOrder(names: string[]): SeriesSpec[] {
  const ordered: SeriesSpec[] = [];
  const visit = (nameOrPath: string, stack: string[]) => {
    const s = loadSeries(nameOrPath);
    if (stack.includes(s.dir)) throw new UsageError(`series ${s.name}: "after:" goes round in a circle: ${[...stack, s.dir].join(" -> ")}`);
    if (ordered.some((o) => o.dir === s.dir)) return;
    if (s.manifest.after) visit(s.manifest.after.includes("/") ? resolve(s.dir, s.manifest.after) : s.manifest.after, [...stack, s.dir]);
    ordered.push(s);
  };
  for (const name of names) visit(name, []);
  return ordered;
}

export function loadSeries(nameOrPath: string): SeriesSpec {
  const dir = byNameOrPath(nameOrPath, "patches", "", "series");
  const file = join(dir, "series.yaml");
  if (!existsSync(file)) return bareSeries(dir);
  const manifest = loadYaml(SeriesManifestSchema, file);
  const within = (p: string) => (isAbsolute(p) ? p : join(dir, p));
  const source = manifest.source;
  if (manifest.patches) {
    for (const p of manifest.patches) {
      if (!existsSync(join(dir, p))) throw new UsageError(`${file} lists ${p}, which is not in the folder`);
    }
    return { name: manifest.name, dir, manifest, source: { kind: "files", files: manifest.patches.map(within) } };
  }
  if (!source) throw new UsageError(`${file}: give either patches or source`);
  if ("quilt" in source) return { name: manifest.name, dir, manifest, source: { kind: "files", files: readQuiltSeries(within(source.quilt)) } };
  if ("mbox" in source) {
    if (!existsSync(within(source.mbox))) throw new UsageError(`${file}: mbox ${source.mbox} does not exist`);
    return { name: manifest.name, dir, manifest, source: { kind: "mbox", file: within(source.mbox), version: source.version } };
  }
  if ("lore" in source) return { name: manifest.name, dir, manifest, source: { kind: "lore", messageId: source.lore, version: source.version } };
  return { name: manifest.name, dir, manifest, source: { kind: "git", repo: resolve(dir, source.git), range: source.range } };
}

/**
 * A folder of `git format-patch` output (or quilt patches) without a series.yaml: the quilt `series` file's
 * order if there is one, else the .patch files in name order (format-patch numbers them), the cover
 * letter left out. The base is the patches' `base-commit:` trailer (format-patch --base) when they have one.
 */
export function bareSeries(dir: string): SeriesSpec {
  const quilt = join(dir, "series");
  const files = existsSync(quilt)
    ? readQuiltSeries(quilt)
    : readdirSync(dir)
        .filter((f) => f.endsWith(".patch") && !/^0000-cover-letter\.patch$/.test(f))
        .sort()
        .map((f) => join(dir, f));
  if (files.length === 0) throw new UsageError(`series ${dir}: no series.yaml, no quilt series file and no .patch files in it`);
  const base = files.map((f) => /^base-commit: ([0-9a-f]{7,40})\s*$/m.exec(readFileSync(f, "utf8"))?.[1]).find(Boolean) ?? "";
  const name =
    basename(dir)
      .replace(/[^\w.+-]/g, "-")
      .replace(/^[^A-Za-z0-9]+/, "") || "series";
  const manifest: SeriesManifest = {
    name,
    description: `${files.length} patches in ${dir} (no series.yaml)`,
    base,
    patches: files.map((f) => basename(f)),
    append: [],
    fragments: [],
  };
  return { name, dir, manifest, source: { kind: "files", files } };
}

/** quilt's `series` file: one patch per line, `#` comments, an optional `-pN` after the name (only -p1 is taken). */
export function readQuiltSeries(file: string): string[] {
  if (!existsSync(file)) throw new UsageError(`quilt series file ${file} does not exist`);
  const dir = dirname(file);
  const patches: string[] = [];
  for (const [i, raw] of readFileSync(file, "utf8").split("\n").entries()) {
    const line = raw.replace(/#.*/, "").trim();
    if (!line) continue;
    const [name, ...opts] = line.split(/\s+/);
    if (opts.some((o) => /^-p(?!1$)/.test(o))) throw new UsageError(`${file}:${i + 1}: ${name} asks for ${opts.join(" ")}; only -p1 patches are supported`);
    const path = join(dir, name!);
    if (!existsSync(path)) throw new UsageError(`${file}:${i + 1}: ${name} is not in ${dir}`);
    patches.push(path);
  }
  if (patches.length === 0) throw new UsageError(`${file} lists no patches`);
  return patches;
}

/** A series named on the command line by where it is (--mbox, --lore, --range): no manifest, so no stated base. */
function adHocSeries(adHoc: AdHocSeries, i: number): SeriesSpec {
  const manifest = (name: string, description: string): SeriesManifest => ({ name, description, base: "", patches: undefined, append: [], fragments: [] });
  if ("mbox" in adHoc) {
    const file = resolve(adHoc.mbox);
    if (!existsSync(file)) throw new UsageError(`--mbox ${adHoc.mbox} does not exist`);
    return { name: `mbox-${i + 1}`, dir: dirname(file), manifest: manifest(`mbox-${i + 1}`, file), source: { kind: "mbox", file, version: adHoc.version } };
  }
  if ("lore" in adHoc) {
    return {
      name: `lore-${i + 1}`,
      dir: process.cwd(),
      manifest: manifest(`lore-${i + 1}`, adHoc.lore),
      source: { kind: "lore", messageId: adHoc.lore, version: adHoc.version },
    };
  }
  const repo = resolve(adHoc.git);
  if (!existsSync(repo)) throw new UsageError(`--range: ${adHoc.git} does not exist`);
  return {
    name: `range-${i + 1}`,
    dir: repo,
    manifest: manifest(`range-${i + 1}`, `${repo} ${adHoc.range}`),
    source: { kind: "git", repo, range: adHoc.range },
  };
}

/** "crypto" means kernel-config/crypto.config; anything with a slash, or ending in the extension, is a path. */
function byNameOrPath(value: string, folder: string, ext: string, what: string): string {
  const isPath = value.includes("/") || (ext !== "" && value.endsWith(ext));
  const path = isPath ? (isAbsolute(value) ? value : resolve(value)) : join(repoRoot, folder, `${value}${ext}`);
  if (!existsSync(path)) throw new UsageError(`${what} "${value}": ${path} does not exist`);
  return path;
}
