// Stage "tree": a kernel source tree that is a git repository, so a series applies with `git am -3`.
// Debian's linux-source-X package is extracted once into the cache and committed as one base commit;
// a local path is used as it is.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { InfraError, UsageError } from "../../lib/errors.ts";
import { git, gitOut, treeState, type TreeState } from "../../lib/git.ts";
import { cacheDir, pathSafe } from "../../lib/paths.ts";
import { withLock } from "../../lib/lock.ts";
import { passed, type Deps, type StageResult } from "../../lib/stage.ts";

export type TreeSpec = { kind: "debian"; package: string } | { kind: "path"; path: string };

export interface KernelTree {
  path: string;
  /** Managed trees belong to the harness and may be reset; a user's tree never is. */
  managed: boolean;
  /** What the base is, in words: "debian linux-source-6.12 6.12.117-1~deb12u1" or the path. */
  description: string;
  baseCommit: string;
  /** Kernel version from the Makefile, e.g. 6.12.117 */
  kernelVersion: string;
  state: TreeState;
}

const MARKER = "wdh-tree.json";

export async function prepareTree(spec: TreeSpec, deps: Deps): Promise<StageResult<KernelTree>> {
  const started = performance.now();
  const tree = spec.kind === "debian" ? await debianTree(spec.package, deps) : await localTree(spec.path, deps);
  return passed("tree", started, tree, { reason: tree.description });
}

async function localTree(path: string, deps: Deps): Promise<KernelTree> {
  const dir = resolve(path);
  if (!existsSync(join(dir, "Makefile")) || !existsSync(join(dir, "Kconfig"))) {
    throw new UsageError(`--tree ${path}: not a kernel source tree (no Makefile and Kconfig at its top)`);
  }
  if (!existsSync(join(dir, ".git"))) throw new UsageError(`--tree ${path}: not a git repository`);
  const state = await treeState(deps.exec, dir, deps.signal);
  return {
    path: dir,
    managed: false,
    description: `${dir} at ${state.head.slice(0, 12)}${state.dirty ? " (with local changes)" : ""}`,
    baseCommit: state.head,
    kernelVersion: makefileVersion(dir),
    state,
  };
}

async function debianTree(pkg: string, deps: Deps): Promise<KernelTree> {
  const version = await installedVersion(pkg, deps);
  const dir = join(cacheDir("trees"), pathSafe(`debian-${pkg}-${version}`));
  const markerPath = join(dir, ".git", MARKER);
  if (!existsSync(markerPath)) {
    await withLock(`${dir}.lock`, async () => {
      if (!existsSync(markerPath)) await extractDebianSource(pkg, version, dir, deps);
    }, { signal: deps.signal, onWait: () => deps.progress(`waiting for another run extracting ${pkg}`) });
  }
  const marker = JSON.parse(readFileSync(markerPath, "utf8")) as { baseCommit: string };
  return {
    path: dir,
    managed: true,
    description: `debian ${pkg} ${version}`,
    baseCommit: marker.baseCommit,
    kernelVersion: makefileVersion(dir),
    state: await treeState(deps.exec, dir, deps.signal),
  };
}

async function installedVersion(pkg: string, deps: Deps): Promise<string> {
  const query = () =>
    deps.exec("dpkg-query", ["-W", "-f", "${Status} ${Version}", pkg], { allowFailure: true, signal: deps.signal });
  let r = await query();
  if (r.exitCode !== 0 || !r.stdout.startsWith("install ok installed")) {
    const apt = ["apt-get", "install", "-y", "--no-install-recommends", pkg];
    if (process.getuid?.() !== 0) {
      throw new InfraError(`${pkg} is not installed`, [`install it as root: ${apt.join(" ")}`]);
    }
    deps.progress(`installing ${pkg}`);
    await deps.exec(apt[0]!, apt.slice(1), { signal: deps.signal, env: { DEBIAN_FRONTEND: "noninteractive" } });
    r = await query();
  }
  return r.stdout.split(" ").pop()!.trim();
}

async function extractDebianSource(pkg: string, version: string, dir: string, deps: Deps): Promise<void> {
  const tarball = `/usr/src/${pkg}.tar.xz`;
  if (!existsSync(tarball)) throw new InfraError(`${pkg} is installed but ${tarball} is missing`);
  const tmp = `${dir}.partial`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  deps.progress(`extracting ${tarball}`);
  await deps.exec("tar", ["-xf", tarball, "-C", tmp, "--strip-components=1"], { signal: deps.signal });
  deps.progress("committing the base tree");
  await git(deps.exec, tmp, ["init", "-q", "-b", "base"]);
  // Series are applied by the harness; the user's global git config must not change the result.
  await git(deps.exec, tmp, ["config", "core.autocrlf", "false"]);
  await git(deps.exec, tmp, ["config", "gc.auto", "0"]);
  // -f: Debian appends "/*" to the top-level .gitignore ("ignore everything at the top level").
  await git(deps.exec, tmp, ["add", "-A", "-f"], { signal: deps.signal });
  await git(deps.exec, tmp, ["commit", "-q", "--no-verify", "-m", `${pkg} ${version}`], {
    signal: deps.signal,
    env: { GIT_AUTHOR_DATE: "2000-01-01T00:00:00Z" },
  });
  const baseCommit = await gitOut(deps.exec, tmp, ["rev-parse", "HEAD"]);
  writeFileSync(join(tmp, ".git", MARKER), JSON.stringify({ pkg, version, baseCommit }, null, 2));
  renameSync(tmp, dir);
}

export function makefileVersion(dir: string): string {
  const head = readFileSync(join(dir, "Makefile"), "utf8").slice(0, 600);
  const field = (name: string) => head.match(new RegExp(`^${name}[ \\t]*=[ \\t]*(\\S*)`, "m"))?.[1] ?? "";
  const sub = field("SUBLEVEL");
  return `${field("VERSION")}.${field("PATCHLEVEL")}${sub ? `.${sub}` : ""}${field("EXTRAVERSION")}`;
}
