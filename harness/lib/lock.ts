// A lock per cache entry, so two runs do not extract the same tree or build in the same O= dir at once.
//
// The lock is the kernel's: flock(2) on the lock file, held by util-linux's flock(1) running `cat` for as
// long as we hold it. The kernel drops it when that process ends, and `cat` ends when the harness does
// (its stdin is a pipe from us, which closes even when we are SIGKILLed), so there is no stale lock to take
// over and nothing that can race: a pid in a file, checked and then removed, lets two waiters that both
// saw a dead holder delete each other's new lock (so does proper-lockfile's stale-lock removal, which
// removes by mtime and then re-creates). The lock file stays; it holds no state.
import { openSync, closeSync } from "node:fs";
import { InterruptedError, InfraError } from "./errors.ts";
import { createExec } from "./exec.ts";

const exec = createExec();

export interface LockOptions {
  signal?: AbortSignal;
  /** Called once if the lock is not ours at once (another run holds it). */
  onWait?: () => void;
}

export async function withLock<T>(path: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const release = await acquireLock(path, opts);
  try {
    return await fn();
  } finally {
    release();
  }
}

/** Take the lock, waiting for its holder; returns the function that releases it (once). */
export async function acquireLock(path: string, opts: LockOptions = {}): Promise<() => void> {
  closeSync(openSync(path, "a")); // flock(1) would create it too, but this way a bad path fails here, clearly
  if (opts.signal?.aborted) throw new InterruptedError(`interrupted while waiting for ${path}`);
  const holder = new AbortController();
  const stop = () => holder.abort();
  opts.signal?.addEventListener("abort", stop, { once: true });
  let taken!: () => void;
  const acquired = new Promise<void>((resolve) => (taken = resolve));
  // Another run holds it when flock has not said it got the lock by now (it says so at once when free).
  const waiting = setTimeout(() => opts.onWait?.(), 250);
  // flock(1) forks and waits for its command, so its stdout, a pipe, is flushed only when it ends: stdbuf
  // makes it line-buffered, so that "getting lock took ..." reaches us as soon as the lock is ours.
  const held = exec("stdbuf", ["-oL", "flock", "--verbose", "--exclusive", path, "cat"], {
    signal: holder.signal,
    stdinOpen: true,
    allowFailure: true,
    onLine: (line) => /^flock: getting lock took /.test(line) && taken(),
  });
  const ended = held.then(
    (r) => new InfraError(`flock ${path} ended (exit ${r.exitCode}) before it took the lock`, r.stderr.split("\n").slice(-5)),
    (e: unknown) => e,
  );
  const first = await Promise.race([acquired.then(() => undefined), ended]);
  clearTimeout(waiting);
  // Ctrl-C cancels the wait; a lock already taken is given up by release() (or with the harness).
  opts.signal?.removeEventListener("abort", stop);
  if (first !== undefined) {
    if (opts.signal?.aborted) throw new InterruptedError(`interrupted while waiting for ${path}`);
    throw first;
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    holder.abort(); // kills flock and its cat: the kernel drops the lock (ended then holds an InterruptedError, unread)
  };
}
