// Stage "qemu source": a QEMU source tree that is a git repository, so a QEMU series applies with
// `git am -3` like a kernel series. Debian's source package is fetched with `apt-get source` through a
// private apt configuration (its own sources list, lists and archive folders in the cache, so the host's
// apt sources are never touched), which also applies Debian's own patches (the +ds tarball lacks the
// firmware blobs and dtbs that those patches teach configure to do without), and is committed as one
// base commit; a local QEMU git tree is used as it is.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { InfraError, UsageError } from "../../lib/errors.ts";
import { commitUnpackedSource, initManagedRepo, treeState, type TreeState } from "../../lib/git.ts";
import { withLock } from "../../lib/lock.ts";
import { aptUpdate, privateApt } from "../../lib/apt.ts";
import { cacheDir, pathSafe } from "../../lib/paths.ts";
import { passed, type Deps, type StageResult } from "../../lib/stage.ts";
import type { QemuSourceSpec } from "../../config/schema.ts";

export type { QemuSourceSpec };
// The apt helpers live in lib/apt.ts (the kernel tree stage fetches linux-source packages the same way).
export { debSrcEntry, privateAptOptions } from "../../lib/apt.ts";

export interface QemuTree {
  source: QemuSourceSpec;
  path: string;
  managed: boolean;
  /** "debian qemu 1:10.2.2+ds-1", or the path and its HEAD. */
  description: string;
  debian?: { package: string; version: string };
  baseCommit: string;
  /** The VERSION file: 10.2.2 */
  qemuVersion: string;
  state: TreeState;
  /** The commands that fetched it, for reproduce.sh (empty for a local tree or a cached one). */
  fetchArgv: string[][];
}

const MARKER = "wdh-qemu-tree.json";

export async function prepareQemuTree(spec: QemuSourceSpec, deps: Deps): Promise<StageResult<QemuTree>> {
  const started = performance.now();
  const tree = spec.kind === "debian" ? await debianQemu(spec, deps) : await localQemu(spec.path, deps);
  return passed("qemu-source", started, tree, { reason: tree.description });
}

async function localQemu(path: string, deps: Deps): Promise<QemuTree> {
  const dir = resolve(path);
  if (!existsSync(join(dir, "configure")) || !existsSync(join(dir, "VERSION")) || !existsSync(join(dir, "hw"))) {
    throw new UsageError(`--qemu-tree ${path}: not a QEMU source tree (no configure, VERSION and hw/ at its top)`);
  }
  if (!existsSync(join(dir, ".git"))) throw new UsageError(`--qemu-tree ${path}: not a git repository`);
  const state = await treeState(deps.exec, dir, deps.signal);
  return {
    source: { kind: "path", path: dir },
    path: dir,
    managed: false,
    description: `${dir} at ${state.head.slice(0, 12)}${state.dirty ? " (with local changes)" : ""}`,
    baseCommit: state.head,
    qemuVersion: qemuVersionOf(dir),
    state,
    fetchArgv: [],
  };
}

async function debianQemu(spec: Extract<QemuSourceSpec, { kind: "debian" }>, deps: Deps): Promise<QemuTree> {
  const dir = join(cacheDir("qemu-trees"), pathSafe(`debian-${spec.package}-${spec.version}`));
  const markerPath = join(dir, ".git", MARKER);
  let fetchArgv: string[][] = [];
  if (!existsSync(markerPath)) {
    await withLock(
      `${dir}.lock`,
      async () => {
        if (!existsSync(markerPath)) fetchArgv = await fetchDebianSource(spec, dir, deps);
      },
      { signal: deps.signal, onWait: () => deps.progress(`waiting for another run fetching ${spec.package} ${spec.version}`) },
    );
  }
  const marker = JSON.parse(readFileSync(markerPath, "utf8")) as { baseCommit: string; fetchArgv?: string[][] };
  return {
    source: spec,
    path: dir,
    managed: true,
    description: `debian ${spec.package} ${spec.version}`,
    debian: { package: spec.package, version: spec.version },
    baseCommit: marker.baseCommit,
    qemuVersion: qemuVersionOf(dir),
    state: await treeState(deps.exec, dir, deps.signal),
    fetchArgv: fetchArgv.length ? fetchArgv : (marker.fetchArgv ?? []),
  };
}

async function fetchDebianSource(spec: Extract<QemuSourceSpec, { kind: "debian" }>, dir: string, deps: Deps): Promise<string[][]> {
  // One apt folder per mirror and suite: its lists are refreshed only when the version is not known yet.
  const apt = privateApt("deb-src", spec).options;
  const update = ["apt-get", ...apt, "update"];
  const source = ["apt-get", ...apt, "source", "--only-source", `${spec.package}=${spec.version}`];
  const tmp = `${dir}.partial`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  deps.progress(`apt-get update (${spec.suite} sources, private configuration)`);
  try {
    await aptUpdate(update, spec, deps);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  deps.progress(`apt-get source ${spec.package}=${spec.version}`);
  const got = await deps.exec(source[0]!, source.slice(1), { cwd: tmp, signal: deps.signal, allowFailure: true });
  if (got.exitCode !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    const text = `${got.stdout}\n${got.stderr}`;
    // apt says so when the index does not have that version: the user asked for something that is not there.
    if (/Can not find version|Unable to find a source package/i.test(text)) {
      throw new UsageError(`${spec.mirror} ${spec.suite} has no source package ${spec.package} ${spec.version}`, text.trim().split("\n").slice(-3));
    }
    throw new InfraError(`apt-get source ${spec.package}=${spec.version} failed`, text.trim().split("\n").slice(-5));
  }
  const unpacked = readdirSync(tmp, { withFileTypes: true }).filter((e) => e.isDirectory());
  if (unpacked.length !== 1) throw new InfraError(`apt-get source left ${unpacked.length} folders in ${tmp}, expected one`);
  const src = join(tmp, unpacked[0]!.name);
  // dpkg-source's quilt bookkeeping is not part of the source.
  rmSync(join(src, ".pc"), { recursive: true, force: true });
  deps.progress("committing the base tree");
  await initManagedRepo(deps.exec, src, "base", deps.signal);
  const baseCommit = await commitUnpackedSource(
    deps.exec,
    src,
    `debian ${spec.package} ${spec.version} (apt-get source, Debian's patches applied)`,
    deps.signal,
  );
  const fetchArgv = [update, source];
  writeFileSync(join(src, ".git", MARKER), JSON.stringify({ ...spec, baseCommit, fetchArgv }, null, 2));
  rmSync(dir, { recursive: true, force: true });
  renameSync(src, dir);
  rmSync(tmp, { recursive: true, force: true });
  return fetchArgv;
}

export function qemuVersionOf(dir: string): string {
  const file = join(dir, "VERSION");
  return existsSync(file) ? readFileSync(file, "utf8").trim() : "unknown";
}
