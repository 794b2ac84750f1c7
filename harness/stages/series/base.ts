// Does the tree match the base a series says it was written against? A mismatch is refused before any
// patch is applied, naming both, because "does not apply" or a build break on the wrong base wastes the
// developer's time on the wrong question.
import { git, gitOut } from "../../lib/git.ts";
import type { Deps } from "../../lib/stage.ts";

/** What the check needs of a tree: a kernel tree or a QEMU tree. */
export interface BaseTree {
  path: string;
  baseCommit: string;
  description: string;
  /** The Makefile's version, for a kernel tree (compared with a tag the tree lacks). */
  kernelVersion?: string;
  /** Set when the tree is a Debian source package the harness unpacked. */
  debian?: { package: string; version: string };
}

export interface BaseCheck {
  matches: boolean;
  /** What the series says, e.g. "v4.18" or "debian linux-source-6.12". */
  stated: string;
  /** What the tree is, in the same terms where possible. */
  actual: string;
  /** How the two were compared. */
  how: string;
}

/** "v4.18" -> "4.18.0", "v5.7-rc1" -> "5.7.0-rc1": the Makefile's VERSION.PATCHLEVEL.SUBLEVEL+EXTRAVERSION. */
export function versionOfTag(tag: string): string | undefined {
  const m = /^v(\d+)\.(\d+)(?:\.(\d+))?(-rc\d+)?$/.exec(tag);
  return m ? `${m[1]}.${m[2]}.${m[3] ?? "0"}${m[4] ?? ""}` : undefined;
}

export async function checkBase(stated: string, tree: BaseTree, deps: Deps): Promise<BaseCheck> {
  const s = stated.trim();
  if (s === "") return { matches: true, stated: "(none stated)", actual: tree.description, how: "no base to check" };
  // "debian linux-source-6.12" (the package is the version) or "debian qemu 1:10.2.2+ds-1".
  const debian = /^debian (\S+)(?: (\S+))?$/.exec(s);
  if (debian) {
    const [, pkg, version] = debian;
    if (!tree.debian) return { matches: false, stated: s, actual: tree.description, how: "Debian source package" };
    const matches = tree.debian.package === pkg && (version === undefined || tree.debian.version === version);
    return {
      matches,
      stated: s,
      actual: `debian ${tree.debian.package}${version === undefined ? "" : ` ${tree.debian.version}`}`,
      how: "Debian source package",
    };
  }
  const resolved = await git(deps.exec, tree.path, ["rev-parse", "-q", "--verify", `${s}^{commit}`], { allowFailure: true, signal: deps.signal });
  if (resolved.exitCode === 0) {
    const commit = resolved.stdout.trim();
    const actual = await describeCommit(tree, deps);
    return { matches: commit === tree.baseCommit, stated: `${s} (${commit.slice(0, 12)})`, actual, how: "git commit" };
  }
  const version = versionOfTag(s);
  if (version && tree.kernelVersion) {
    // A tag the tree does not carry (Debian source, a shallow fetch of a branch): compare the Makefile.
    return {
      matches: version === tree.kernelVersion,
      stated: `${s} (Makefile ${version})`,
      actual: `Makefile ${tree.kernelVersion} (${tree.description})`,
      how: "Makefile version",
    };
  }
  return { matches: false, stated: s, actual: await describeCommit(tree, deps), how: `${s} is not a commit of this tree` };
}

async function describeCommit(tree: BaseTree, deps: Deps): Promise<string> {
  const d = await gitOut(deps.exec, tree.path, ["describe", "--tags", "--always", tree.baseCommit], { allowFailure: true, signal: deps.signal });
  return `${tree.description} at ${d || tree.baseCommit.slice(0, 12)}`;
}
