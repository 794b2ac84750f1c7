// Does the tree match the base a series says it was written against? A mismatch is refused before any
// patch is applied, naming both, because "does not apply" or a build break on the wrong base wastes the
// developer's time on the wrong question.
import { git, gitOut } from "../../lib/git.ts";
import type { Deps } from "../../lib/stage.ts";
import type { KernelTree } from "../tree/tree.ts";

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

export async function checkBase(stated: string, tree: KernelTree, deps: Deps): Promise<BaseCheck> {
  const s = stated.trim();
  if (s === "") return { matches: true, stated: "(none stated)", actual: tree.description, how: "no base to check" };
  const debian = /^debian (linux-source-[\d.]+)$/.exec(s);
  if (debian) {
    const actual = tree.source.kind === "debian" ? `debian ${tree.source.package}` : tree.description;
    return { matches: actual === s, stated: s, actual, how: "Debian source package" };
  }
  const resolved = await git(deps.exec, tree.path, ["rev-parse", "-q", "--verify", `${s}^{commit}`], { allowFailure: true, signal: deps.signal });
  if (resolved.exitCode === 0) {
    const commit = resolved.stdout.trim();
    const actual = await describeCommit(tree, deps);
    return { matches: commit === tree.baseCommit, stated: `${s} (${commit.slice(0, 12)})`, actual, how: "git commit" };
  }
  const version = versionOfTag(s);
  if (version) {
    // A tag the tree does not carry (Debian source, a shallow fetch of a branch): compare the Makefile.
    return { matches: version === tree.kernelVersion, stated: `${s} (Makefile ${version})`, actual: `Makefile ${tree.kernelVersion} (${tree.description})`, how: "Makefile version" };
  }
  return { matches: false, stated: s, actual: await describeCommit(tree, deps), how: `${s} is not a commit of this tree` };
}

async function describeCommit(tree: KernelTree, deps: Deps): Promise<string> {
  const d = await gitOut(deps.exec, tree.path, ["describe", "--tags", "--always", tree.baseCommit], { allowFailure: true, signal: deps.signal });
  return `${tree.description} at ${d || tree.baseCommit.slice(0, 12)}`;
}
