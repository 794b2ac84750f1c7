// Small git helpers over the exec wrapper. A fixed identity and dates keep commit ids reproducible,
// so the same base tree and series give the same commits on every machine.
import type { Exec, ExecOptions } from "./exec.ts";
import { sha256 } from "./paths.ts";

export const gitIdentityEnv = {
  GIT_AUTHOR_NAME: "warpdrive-harness",
  GIT_AUTHOR_EMAIL: "harness@warpdrive.invalid",
  GIT_COMMITTER_NAME: "warpdrive-harness",
  GIT_COMMITTER_EMAIL: "harness@warpdrive.invalid",
  GIT_COMMITTER_DATE: "2000-01-01T00:00:00Z",
};

export function git(exec: Exec, cwd: string, args: string[], options: ExecOptions = {}) {
  return exec("git", args, { cwd, ...options, env: { ...gitIdentityEnv, ...options.env } });
}

export async function gitOut(exec: Exec, cwd: string, args: string[], options: ExecOptions = {}): Promise<string> {
  return (await git(exec, cwd, args, options)).stdout.trim();
}

/** The tree's state: HEAD and, when the work tree differs from it, a hash of the difference. */
export interface TreeState {
  head: string;
  /** null when the work tree is clean. */
  dirty: string | null;
  /** Paths that differ from HEAD (empty when clean). */
  changed?: string[];
}

export async function treeState(exec: Exec, cwd: string, signal?: AbortSignal): Promise<TreeState> {
  const head = await gitOut(exec, cwd, ["rev-parse", "HEAD"], { signal });
  const status = await gitOut(exec, cwd, ["status", "--porcelain", "--untracked-files=normal"], { signal });
  if (status === "") return { head, dirty: null, changed: [] };
  const diff = await git(exec, cwd, ["diff", "HEAD", "--binary"], { signal });
  const changed = status.split("\n").map((l) => l.slice(3));
  return { head, dirty: sha256(status + "\n" + diff.stdout).slice(0, 16), changed };
}

/**
 * What the kernel configuration depends on: HEAD, plus local changes only when they touch Kconfig
 * files, so editing a driver's .c file does not re-run merge_config.sh.
 */
export function configStateId(s: TreeState): string {
  const kconfigChanged = (s.changed ?? []).some((p) => /(^|\/)Kconfig[^/]*$/.test(p));
  return kconfigChanged ? treeStateId(s) : s.head;
}

export function treeStateId(s: TreeState): string {
  return s.dirty ? `${s.head}+dirty-${s.dirty}` : s.head;
}

/** A repository the harness owns. Series are applied by the harness: the user's global git config must not change the result. */
export async function initManagedRepo(exec: Exec, dir: string, branch: string, signal?: AbortSignal): Promise<void> {
  await git(exec, dir, ["init", "-q", "-b", branch], { signal });
  await git(exec, dir, ["config", "core.autocrlf", "false"], { signal });
  await git(exec, dir, ["config", "gc.auto", "0"], { signal });
}

/**
 * Commit every file of a freshly unpacked source as one base commit with a fixed date, so the same
 * source gives the same commit id on every machine. -f: Debian's trees carry .gitignore files that
 * ignore files the source ships (the kernel's appends "/*").
 */
export async function commitUnpackedSource(exec: Exec, dir: string, message: string, signal?: AbortSignal): Promise<string> {
  await git(exec, dir, ["add", "-A", "-f"], { signal });
  await git(exec, dir, ["commit", "-q", "--no-verify", "-m", message], { signal, env: { GIT_AUTHOR_DATE: "2000-01-01T00:00:00Z" } });
  return gitOut(exec, dir, ["rev-parse", "HEAD"], { signal });
}
