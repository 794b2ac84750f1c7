// The artifact store: every file a run booted or ran (kernel Image, vmlinux, System.map, .config, the
// initramfs, a QEMU the harness built) kept immutably under a name made from its content, so a run
// folder can name it and still mean that file after later builds rewrote the build dir. Files are
// copied in (reflinked where the filesystem can), never hard-linked: tools rewrite some build outputs in
// place (System.map is a shell redirection), which would change a hard-linked copy too.
import { constants, copyFileSync, createReadStream, existsSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { cacheDir } from "./paths.ts";

export interface Stored {
  path: string;
  sha256: string;
  bytes: number;
}

export function storeDir(): string {
  return cacheDir("store");
}

export function fileSha256(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(path)
      .on("data", (chunk) => hash.update(chunk))
      .on("end", () => resolve(hash.digest("hex")))
      .on("error", reject);
  });
}

/** Keep `path` in the store as `<sha256 prefix>-<name>`; the same content is stored once. */
export async function keep(path: string, name: string, knownSha256?: string): Promise<Stored> {
  const sha256 = knownSha256 ?? (await fileSha256(path));
  const dest = join(storeDir(), `${sha256.slice(0, 24)}-${name}`);
  if (!existsSync(dest)) {
    const tmp = `${dest}.partial-${process.pid}`;
    copyFileSync(path, tmp, constants.COPYFILE_FICLONE);
    renameSync(tmp, dest);
  }
  return { path: dest, sha256, bytes: statSync(dest).size };
}

/** Is this path a store entry (as opposed to a file elsewhere, e.g. a QEMU binary on the host)? */
export function inStore(path: string): boolean {
  return path.startsWith(`${storeDir()}/`);
}

/** Remove every store entry not in `referenced`; returns what was removed and the bytes freed. */
export function pruneStore(referenced: ReadonlySet<string>): { removed: string[]; bytes: number } {
  const removed: string[] = [];
  let bytes = 0;
  for (const name of readdirSync(storeDir())) {
    const path = join(storeDir(), name);
    if (referenced.has(path)) continue;
    bytes += statSync(path).size;
    rmSync(path, { force: true });
    removed.push(path);
  }
  return { removed, bytes };
}
