// Cache entries appear whole or not at all: each is written under a temporary name beside its final one
// and renamed into place, so a killed run never leaves half a file that a later run would trust. The
// temporary name carries the pid: two runs filling the same entry do not write into each other's.
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

function temporaryName(path: string): string {
  return `${path}.partial-${process.pid}`;
}

/** Write a file through `write(tmp)`, then rename it to `path`. */
export async function writeAtomically(path: string, write: (tmp: string) => void | Promise<void>): Promise<void> {
  const tmp = temporaryName(path);
  mkdirSync(dirname(path), { recursive: true });
  rmSync(tmp, { force: true });
  await write(tmp);
  renameSync(tmp, path);
}

export function writeFileAtomically(path: string, data: string | Buffer): void {
  const tmp = temporaryName(path);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/**
 * A cached folder, filled once: an existing `dir` is returned as it is; otherwise `fill(tmp)` writes a
 * fresh folder that is then renamed to `dir` (or dropped, when another run got there first).
 */
export async function fillDirOnce(dir: string, fill: (tmp: string) => void | Promise<void>): Promise<string> {
  if (existsSync(dir)) return dir;
  const tmp = temporaryName(dir);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    await fill(tmp);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  if (existsSync(dir)) rmSync(tmp, { recursive: true, force: true });
  else renameSync(tmp, dir);
  return dir;
}
