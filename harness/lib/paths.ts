// Where things live. Caches sit outside the repository and the run folder, keyed by what produced them.
import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export function cacheRoot(): string {
  const base = process.env.WDH_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "warpdrive-harness");
  mkdirSync(base, { recursive: true });
  return base;
}

export function cacheDir(...parts: string[]): string {
  const dir = join(cacheRoot(), ...parts);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function sha256(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** A short, path-safe key. */
export function shortHash(data: string | Buffer): string {
  return sha256(data).slice(0, 12);
}

/** Make a string safe as one path component (Debian versions carry '~' and ':'). */
export function pathSafe(name: string): string {
  return name.replace(/[^\w.+-]/g, "-");
}
