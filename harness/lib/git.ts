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
