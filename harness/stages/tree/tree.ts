// Stage "tree": a kernel source tree that is a git repository, so a series applies with `git am -3`.
// Debian's linux-source-X package (installed with the host's apt, or one version downloaded from another
// suite through a private apt configuration) is extracted once into the cache and committed as one base commit;
// a git url + ref is fetched shallow into the cache; a local path is used as it is.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { aptUpdate, privateApt } from "../../lib/apt.ts";
import type { DebianFetch, TreeSpec } from "../../config/specs.ts";
import { InfraError, UsageError } from "../../lib/errors.ts";
import { commitUnpackedSource, git, gitOut, initManagedRepo, treeState, type TreeState } from "../../lib/git.ts";
import { cacheDir, pathSafe, shortHash } from "../../lib/paths.ts";
import { withLock } from "../../lib/lock.ts";
import { passed, type Deps, type StageResult } from "../../lib/stage.ts";

export type { DebianFetch, TreeSpec } from "../../config/specs.ts";

export interface KernelTree {
  source: TreeSpec;
  path: string;
  /** Managed trees belong to the harness and may be reset; a user's tree never is. */
  managed: boolean;
  /** What the base is, in words: "debian linux-source-6.12 6.12.117-1~deb12u1" or the path. */
  description: string;
  baseCommit: string;
  /** Set for a Debian source package: "linux-source-6.12" and its Debian version. */
  debian?: { package: string; version: string };
  /** Kernel version from the Makefile, e.g. 6.12.117 */
  kernelVersion: string;
  state: TreeState;
  /** The commands that fetched it, for reproduce.sh and the manifest (empty for an installed package, a path or a git tree). */
  fetchArgv: string[][];
}

const MARKER = "wdh-tree.json";

export async function prepareTree(spec: TreeSpec, deps: Deps): Promise<StageResult<KernelTree>> {
  const started = performance.now();
  const tree = spec.kind === "debian" ? await debianTree(spec, deps) : spec.kind === "git" ? await fetchedTree(spec, deps) : await localTree(spec.path, deps);
  return passed("tree", started, { fetchArgv: [], ...tree, source: spec }, { reason: tree.description });
}

type Found = Omit<KernelTree, "source" | "fetchArgv"> & { fetchArgv?: string[][] };

async function localTree(path: string, deps: Deps): Promise<Found> {
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

async function debianTree(spec: Extract<TreeSpec, { kind: "debian" }>, deps: Deps): Promise<Found> {
  const pkg = spec.package;
  const version = spec.fetch ? spec.fetch.version : await installedVersion(pkg, deps);
  if (!spec.fetch && spec.version !== undefined && spec.version !== version) {
    throw new UsageError(`the profile asks for ${pkg} ${spec.version}, but ${version} is installed`, [
      `name the suite that has ${spec.version} (tree: { debian: ${pkg}, version: ${spec.version}, suite: sid }) to download it instead`,
    ]);
  }
  // Keyed by package and version: the same Debian version is the same source whichever way it came.
  const dir = join(cacheDir("trees"), pathSafe(`debian-${pkg}-${version}`));
  const markerPath = join(dir, ".git", MARKER);
  let fetchArgv: string[][] = [];
  if (!existsSync(markerPath)) {
    await withLock(
      `${dir}.lock`,
      async () => {
        if (existsSync(markerPath)) return;
        if (spec.fetch) {
          const fetched = await downloadDebianSource(pkg, spec.fetch, deps);
          fetchArgv = fetched.fetchArgv;
          await extractDebianSource(pkg, version, fetched.tarball, dir, deps, { fetchArgv, cleanup: fetched.cleanup });
        } else {
          await extractDebianSource(pkg, version, `/usr/src/${pkg}.tar.xz`, dir, deps);
        }
      },
      { signal: deps.signal, onWait: () => deps.progress(`waiting for another run extracting ${pkg}`) },
    );
  }
  const marker = JSON.parse(readFileSync(markerPath, "utf8")) as { baseCommit: string; fetchArgv?: string[][] };
  return {
    path: dir,
    managed: true,
    description: `debian ${pkg} ${version}`,
    debian: { package: pkg, version },
    baseCommit: marker.baseCommit,
    kernelVersion: makefileVersion(dir),
    state: await treeState(deps.exec, dir, deps.signal),
    fetchArgv: fetchArgv.length ? fetchArgv : (marker.fetchArgv ?? []),
  };
}

/**
 * `apt-get download PKG=VERSION` from one suite through a private apt configuration into the cache, then
 * `dpkg-deb -x` into a temporary folder (no root needed): returns the source tarball in it. apt keeps a
 * .deb it already has when its hash matches the index, so a second extraction does not download again.
 */
async function downloadDebianSource(pkg: string, fetch: DebianFetch, deps: Deps): Promise<{ tarball: string; fetchArgv: string[][]; cleanup: () => void }> {
  const apt = privateApt("deb", fetch).options;
  const update = ["apt-get", ...apt, "update"];
  const download = ["apt-get", ...apt, "download", `${pkg}=${fetch.version}`];
  deps.progress(`apt-get update (${fetch.suite}, private configuration)`);
  await aptUpdate(update, fetch, deps);
  const debDir = cacheDir("debs", "linux-source");
  deps.progress(`apt-get download ${pkg}=${fetch.version}`);
  const got = await deps.exec(download[0]!, download.slice(1), { cwd: debDir, signal: deps.signal, allowFailure: true });
  if (got.exitCode !== 0) {
    const text = `${got.stdout}\n${got.stderr}`;
    // apt says so when the index does not have that version: the user asked for something that is not there.
    if (/Version '[^']*' for '[^']*' was not found|Can't select version|Unable to locate package|has no installation candidate/i.test(text)) {
      throw new UsageError(`${fetch.mirror} ${fetch.suite} has no package ${pkg} ${fetch.version}`, text.trim().split("\n").slice(-3));
    }
    throw new InfraError(`apt-get download ${pkg}=${fetch.version} failed`, text.trim().split("\n").slice(-5));
  }
  // The file name apt gives it: the version without its epoch, and ':' written as %3a.
  const deb = readdirSync(debDir).find(
    (f) => f.startsWith(`${pkg}_`) && f.endsWith(".deb") && decodeURIComponent(f.split("_")[1]!) === fetch.version.replace(/^\d+:/, ""),
  );
  if (!deb) throw new InfraError(`apt-get download ${pkg}=${fetch.version} left no ${pkg}_*.deb in ${debDir}`);
  const unpacked = mkdtempSync(join(tmpdir(), "wdh-linux-source-"));
  const cleanup = () => rmSync(unpacked, { recursive: true, force: true });
  const extract = ["dpkg-deb", "-x", join(debDir, deb), unpacked];
  deps.progress(`dpkg-deb -x ${deb}`);
  try {
    await deps.exec(extract[0]!, extract.slice(1), { signal: deps.signal });
  } catch (e) {
    cleanup();
    throw e;
  }
  const tarball = join(unpacked, "usr/src", `${pkg}.tar.xz`);
  if (!existsSync(tarball)) {
    cleanup();
    throw new InfraError(`${deb} has no usr/src/${pkg}.tar.xz`);
  }
  // For reproduce.sh, relative to a folder of one's own: the .deb, then its tarball into linux/.
  const fetchArgv = [
    update,
    download,
    ["dpkg-deb", "-x", deb, "deb-root"],
    ["tar", "-xf", `deb-root/usr/src/${pkg}.tar.xz`, "-C", "linux", "--strip-components=1"],
  ];
  return { tarball, fetchArgv, cleanup };
}

async function installedVersion(pkg: string, deps: Deps): Promise<string> {
  const query = () => deps.exec("dpkg-query", ["-W", "-f", "${Status} ${Version}", pkg], { allowFailure: true, signal: deps.signal });
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

async function extractDebianSource(
  pkg: string,
  version: string,
  tarball: string,
  dir: string,
  deps: Deps,
  fetched: { fetchArgv: string[][]; cleanup: () => void } = { fetchArgv: [], cleanup: () => {} },
): Promise<void> {
  const tmp = `${dir}.partial`;
  try {
    if (!existsSync(tarball)) throw new InfraError(`${pkg} is installed but ${tarball} is missing`);
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    deps.progress(`extracting ${fetched.fetchArgv.length ? `${pkg}.tar.xz` : tarball}`);
    await deps.exec("tar", ["-xf", tarball, "-C", tmp, "--strip-components=1"], { signal: deps.signal });
  } finally {
    fetched.cleanup();
  }
  deps.progress("committing the base tree");
  await initManagedRepo(deps.exec, tmp, "base", deps.signal);
  const baseCommit = await commitUnpackedSource(deps.exec, tmp, `${pkg} ${version}`, deps.signal);
  const fetchArgv = fetched.fetchArgv;
  writeFileSync(join(tmp, ".git", MARKER), JSON.stringify({ pkg, version, baseCommit, ...(fetchArgv.length ? { fetchArgv } : {}) }, null, 2));
  renameSync(tmp, dir);
}

export function makefileVersion(dir: string): string {
  const head = readFileSync(join(dir, "Makefile"), "utf8").slice(0, 600);
  const field = (name: string) => head.match(new RegExp(`^${name}[ \\t]*=[ \\t]*(\\S*)`, "m"))?.[1] ?? "";
  const sub = field("SUBLEVEL");
  return `${field("VERSION")}.${field("PATCHLEVEL")}${sub ? `.${sub}` : ""}${field("EXTRAVERSION")}`;
}

/**
 * A shallow fetch of one ref of a git url, cached by url + ref. A tag or a commit id is fetched once and
 * then used offline; a branch is fetched again each run when the network allows (the cached copy is
 * used, with a note, when it does not).
 */
async function fetchedTree(spec: Extract<TreeSpec, { kind: "git" }>, deps: Deps): Promise<Found> {
  const dir = join(cacheDir("trees"), pathSafe(`git-${spec.url.replace(/^.*\/\//, "").replace(/\.git$/, "")}-${spec.ref}-${shortHash(spec.url)}`));
  const markerPath = join(dir, ".git", MARKER);
  await withLock(
    `${dir}.lock`,
    async () => {
      const cached = existsSync(markerPath);
      const isCommitId = /^[0-9a-f]{40}$/.test(spec.ref);
      if (cached && (isCommitId || (JSON.parse(readFileSync(markerPath, "utf8")) as { refKind?: string }).refKind === "tag")) return;
      if (!cached) {
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(dir, { recursive: true });
        await initManagedRepo(deps.exec, dir, "wdh-base", deps.signal);
      }
      deps.progress(`fetching ${spec.ref} from ${spec.url}${spec.depth ? ` (depth ${spec.depth})` : ""}`);
      const { refspec, refKind } = isCommitId ? { refspec: spec.ref, refKind: "commit" } : await remoteRef(spec.url, spec.ref, dir, deps, cached);
      if (!refspec) return; // offline with a cached branch: keep what we have
      const depth = spec.depth > 0 ? [`--depth=${spec.depth}`] : [];
      const fetched = await git(deps.exec, dir, ["fetch", "-q", "--no-tags", ...depth, spec.url, refspec], { signal: deps.signal, allowFailure: cached });
      if (fetched.exitCode !== 0) return deps.progress(`could not fetch ${spec.ref}; using the cached copy`);
      const commit = await gitOut(deps.exec, dir, ["rev-parse", "FETCH_HEAD^{commit}"]);
      await git(deps.exec, dir, ["checkout", "-q", "-f", "--detach", commit], { signal: deps.signal });
      writeFileSync(markerPath, JSON.stringify({ url: spec.url, ref: spec.ref, refKind, baseCommit: commit, fetchedAt: new Date().toISOString() }, null, 2));
    },
    { signal: deps.signal, onWait: () => deps.progress(`waiting for another run fetching ${spec.url}`) },
  );
  const marker = JSON.parse(readFileSync(markerPath, "utf8")) as { baseCommit: string; refKind: string; fetchedAt: string };
  return {
    path: dir,
    managed: true,
    description: `${spec.url} ${spec.ref} (${marker.refKind} ${marker.baseCommit.slice(0, 12)})`,
    baseCommit: marker.baseCommit,
    kernelVersion: makefileVersion(dir),
    state: await treeState(deps.exec, dir, deps.signal),
  };
}

/** refs/tags/X or refs/heads/X on the remote; a tag is fetched into the same name so the base check finds it. */
async function remoteRef(url: string, ref: string, dir: string, deps: Deps, cached: boolean): Promise<{ refspec?: string; refKind: string }> {
  const ls = await git(deps.exec, dir, ["ls-remote", url, ref, `refs/tags/${ref}`, `refs/heads/${ref}`], { signal: deps.signal, allowFailure: true });
  if (ls.exitCode !== 0) {
    if (cached) return { refKind: "branch" };
    throw new InfraError(`cannot reach ${url}`, ls.stderr.trim().split("\n").slice(-3));
  }
  const names = ls.stdout
    .split("\n")
    .map((l) => l.split("\t")[1])
    .filter((n): n is string => Boolean(n));
  const tag = names.find((n) => n === `refs/tags/${ref}` || (ref.startsWith("refs/tags/") && n === ref));
  if (tag) return { refspec: `+${tag}:${tag}`, refKind: "tag" };
  const head = names.find((n) => n === `refs/heads/${ref}` || n === ref);
  if (head) return { refspec: `+${head}:refs/remotes/origin/${head.replace(/^refs\/heads\//, "")}`, refKind: "branch" };
  throw new UsageError(`${url} has no tag or branch ${ref}`);
}
