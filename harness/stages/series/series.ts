// Stage "series": apply the profile's patch series to the tree, one commit per patch, with `git am -3`.
// A patch that does not apply leaves the tree as it was (`git am --abort`) and is named with its file
// and hunk. An applied series is remembered under refs/wdh/applied/<key>, so the next run with the same
// base and patches only checks it out (no file is rewritten, so make has nothing to do).
import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { UsageError } from "../../lib/errors.ts";
import { git, gitOut, treeState, type TreeState } from "../../lib/git.ts";
import { sha256 } from "../../lib/paths.ts";
import { failed, passed, type Deps, type StageResult } from "../../lib/stage.ts";
import { describeApplyFailure, hunkAgainstTree, parseApplyFailure, patchSubject, withoutGitAdvice } from "./patchfile.ts";
import { describeProvenance, type Provenance, type SeriesPatch } from "./sources.ts";
import type { Attestation } from "./attestation.ts";

export interface SeriesInput {
  treeDir: string;
  /** Managed trees are reset to the base; a user's tree must be clean and gets the series on its HEAD. */
  managed: boolean;
  baseCommit: string;
  patches: SeriesPatch[];
  logFile: string;
}

export interface AppliedPatch {
  series: string;
  file: string;
  subject: string;
  sha256: string;
  commit: string;
  provenance: Provenance;
  attestations: Attestation[];
}

export interface AppliedSeries {
  base: string;
  head: string;
  patches: AppliedPatch[];
  /** true when the same series was already applied and was only checked out. */
  reused: boolean;
  state: TreeState;
}

export async function applySeries(input: SeriesInput, deps: Deps): Promise<StageResult<AppliedSeries>> {
  const started = performance.now();
  const run = (args: string[], allowFailure = false) => git(deps.exec, input.treeDir, args, { signal: deps.signal, logFile: input.logFile, allowFailure });
  const texts = input.patches.map((p) => readFileSync(p.file, "utf8"));
  const before = await treeState(deps.exec, input.treeDir, deps.signal);

  if (input.patches.length === 0) {
    if (input.managed && (before.head !== input.baseCommit || before.dirty)) await run(["checkout", "-q", "-f", "--detach", input.baseCommit]);
    const state = input.managed ? await treeState(deps.exec, input.treeDir, deps.signal) : before;
    return passed("series", started, { base: input.baseCommit, head: state.head, patches: [], reused: true, state }, { reason: "no patches" });
  }
  if (!input.managed && before.dirty) {
    throw new UsageError(`${input.treeDir} has local changes; commit or stash them before applying a series to it`);
  }

  const base = input.managed ? input.baseCommit : before.head;
  const key = sha256(JSON.stringify([base, texts]));
  const ref = `refs/wdh/applied/${key.slice(0, 24)}`;
  const known = await run(["rev-parse", "-q", "--verify", `${ref}^{commit}`], true);

  if (known.exitCode === 0) {
    const head = known.stdout.trim();
    if (before.head !== head || before.dirty) await run(["checkout", "-q", "-f", "--detach", head]);
    const commits = (await gitOut(deps.exec, input.treeDir, ["rev-list", "--reverse", `${base}..${head}`])).split("\n");
    const patches = input.patches.map((p, i) => describePatch(p, texts[i]!, commits[i] ?? ""));
    const state = await treeState(deps.exec, input.treeDir, deps.signal);
    return passed("series", started, { base, head, patches, reused: true, state }, { reason: `${patches.length} patches, already applied` });
  }

  // To go back to on failure: the user's branch, or where the managed tree was.
  const original = (await run(["symbolic-ref", "-q", "--short", "HEAD"], true)).stdout.trim() || before.head;
  await run(["am", "--abort"], true); // a previous run killed mid-am must not block this one
  await run(["checkout", "-q", "-f", "--detach", base]);
  const applied: AppliedPatch[] = [];
  for (const [i, patch] of input.patches.entries()) {
    const text = texts[i]!;
    deps.progress(`git am ${basename(patch.file)}`);
    const am = await run(["am", "-3", "--no-gpg-sign", patch.file], true);
    if (am.exitCode !== 0) {
      await run(["am", "--abort"], true);
      // git am -3 reports a conflict by file only; git apply --check names the hunk that failed.
      const check = await git(deps.exec, input.treeDir, ["apply", "--check", "-v", patch.file], { allowFailure: true, logFile: input.logFile });
      const failure = parseApplyFailure(`${check.stderr}\n${am.stdout}\n${am.stderr}`, text);
      const where = describeApplyFailure(failure);
      // What the hunk expected next to what the tree has (read before the tree goes back to where it was).
      const treeFile = failure.file && failure.hunk ? join(input.treeDir, failure.file) : undefined;
      const against = treeFile && existsSync(treeFile) ? hunkAgainstTree(failure.hunk!, readFileSync(treeFile, "utf8").split("\n")) : [];
      await run(["checkout", "-q", "-f", original], true);
      return failed("series", started, `patch ${i + 1}/${input.patches.length} ${basename(patch.file)} does not apply: ${where}`, {
        details: [
          `subject: ${patchSubject(text)}`,
          `series: ${patch.series}`,
          `from: ${describeProvenance(patch.provenance)}`,
          ...withoutGitAdvice(`${am.stdout}\n${am.stderr}`.trim().split("\n")).slice(-8),
          ...against,
        ],
        logFile: input.logFile,
        signature: { type: "patch", patch: patchSubject(text), file: failure.file, hunk: failure.hunk?.header.replace(/ @@.*/, " @@") },
      });
    }
    applied.push(describePatch(patch, text, await gitOut(deps.exec, input.treeDir, ["rev-parse", "HEAD"])));
  }
  const head = await gitOut(deps.exec, input.treeDir, ["rev-parse", "HEAD"]);
  await run(["update-ref", ref, head]);
  const state = await treeState(deps.exec, input.treeDir, deps.signal);
  return passed("series", started, { base, head, patches: applied, reused: false, state }, { reason: `${applied.length} patches applied` });
}

function describePatch(patch: SeriesPatch, text: string, commit: string): AppliedPatch {
  return {
    series: patch.series,
    file: patch.file,
    subject: patchSubject(text),
    sha256: sha256(text),
    commit,
    provenance: patch.provenance,
    attestations: patch.attestations,
  };
}
