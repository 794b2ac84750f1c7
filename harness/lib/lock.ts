// A lock file per cache entry, so two runs do not extract the same tree or build in the same O= dir at
// once. The holder's pid is in the file; a lock whose holder is gone is taken over.
import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { InterruptedError } from "./errors.ts";

function holderAlive(path: string): boolean {
  try {
    const pid = Number(readFileSync(path, "utf8"));
    if (!pid) return false;
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function withLock<T>(
  path: string,
  fn: () => Promise<T>,
  opts: { signal?: AbortSignal; onWait?: () => void } = {},
): Promise<T> {
  const release = await acquireLock(path, opts);
  try {
    return await fn();
  } finally {
    release();
  }
}

/** Take the lock, waiting for its holder; returns the function that releases it (once). */
export async function acquireLock(path: string, opts: { signal?: AbortSignal; onWait?: () => void } = {}): Promise<() => void> {
  let waited = false;
  for (;;) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      if (!holderAlive(path)) {
        rmSync(path, { force: true });
        continue;
      }
      if (!waited) opts.onWait?.();
      waited = true;
      if (opts.signal?.aborted) throw new InterruptedError(`interrupted while waiting for ${path}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  let held = true;
  return () => {
    if (held) rmSync(path, { force: true });
    held = false;
  };
}
