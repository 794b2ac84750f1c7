// Debian arm64 packages for the guest, fetched as .debs with the ordinary apt client (no root needed
// once the arm64 architecture is known to apt), cached by file name (which carries the version), and
// unpacked with dpkg-deb -x.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fillDirOnce } from "../../lib/atomic.ts";
import { InfraError } from "../../lib/errors.ts";
import type { Exec } from "../../lib/exec.ts";
import { cacheDir, shortHash } from "../../lib/paths.ts";

export interface DebFile {
  package: string;
  file: string;
  path: string;
}

/**
 * What apt would fetch for these packages (their closure, as .deb file names). Resolving costs ~2 s of
 * apt-cache and apt-get, so the answer is kept until apt's package lists change.
 */
export async function resolveDebs(packages: string[], exec: Exec, signal?: AbortSignal): Promise<DebFile[]> {
  const dir = cacheDir("debs");
  const listsStamp = ["/var/lib/apt/lists", "/var/cache/apt/pkgcache.bin", "/var/lib/dpkg/arch"]
    .map((p) => (existsSync(p) ? statSync(p).mtimeMs : 0))
    .join(":");
  const memo = join(dir, `resolved-${shortHash(JSON.stringify([packages, listsStamp]))}.json`);
  if (existsSync(memo)) {
    const debs = JSON.parse(readFileSync(memo, "utf8")) as DebFile[];
    if (debs.every((d) => existsSync(d.path))) return debs;
  }
  const closure = (await resolveClosure(packages, exec, signal)).filter((p) => p.endsWith(":arm64"));
  const debs = await fetchDebs(closure, exec, signal);
  writeFileSync(memo, JSON.stringify(debs, null, 2));
  return debs;
}

/** The packages and their run-time dependency closure, as apt resolves them. */
export async function resolveClosure(packages: string[], exec: Exec, signal?: AbortSignal): Promise<string[]> {
  const r = await exec(
    "apt-cache",
    ["depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances", ...packages],
    { signal, allowFailure: true },
  );
  if (r.exitCode !== 0) throw aptProblem(`apt-cache depends ${packages.join(" ")}`, r.stderr);
  // Top-level lines are package names; virtual packages appear as <name> and are provided by others listed.
  return [...new Set(r.stdout.split("\n").filter((l) => l && !l.startsWith(" ") && !l.startsWith("<")))].sort();
}

/** apt-get download of what is not in the cache yet; returns every .deb of the set. */
export async function fetchDebs(packages: string[], exec: Exec, signal?: AbortSignal): Promise<DebFile[]> {
  const dir = cacheDir("debs");
  // --print-uris lists only what is not in its working directory yet: ask from an empty one.
  const empty = mkdtempSync(join(tmpdir(), "wdh-apt-"));
  const uris = await exec("apt-get", ["download", "--print-uris", ...packages], { signal, allowFailure: true, cwd: empty });
  rmSync(empty, { recursive: true, force: true });
  if (uris.exitCode !== 0) throw aptProblem(`apt-get download ${packages.join(" ")}`, uris.stderr);
  if (!uris.stdout.includes("'")) throw aptProblem(`apt-get download --print-uris ${packages.join(" ")} listed nothing`, uris.stderr);
  // Lines: 'URI' file size hash, one per package, in the order asked.
  const files = uris.stdout
    .split("\n")
    .filter((l) => l.startsWith("'"))
    .map((l) => l.split(" ")[1]!);
  const debs = files.map((file) => ({ package: file.split("_")[0]!, file, path: join(dir, file) }));
  const missing = debs.filter((d) => !existsSync(d.path));
  if (missing.length > 0) {
    const r = await exec("apt-get", ["download", ...missing.map((d) => `${d.package}:arm64`)], { signal, allowFailure: true, cwd: dir });
    if (r.exitCode !== 0) throw aptProblem("apt-get download", r.stderr);
  }
  return debs;
}

/** Unpack a set of .debs into one directory, cached by the set's file names. */
export async function unpackDebs(debs: DebFile[], exec: Exec, signal?: AbortSignal): Promise<string> {
  const key = shortHash(
    debs
      .map((d) => d.file)
      .sort()
      .join("\n"),
  );
  const dir = join(cacheDir("rootfs"), `debs-${key}`);
  return fillDirOnce(dir, async (tmp) => {
    for (const d of debs) await exec("dpkg-deb", ["-x", d.path, tmp], { signal });
  });
}

function aptProblem(what: string, stderr: string): InfraError {
  const hints = [stderr.trim().split("\n").slice(-3).join(" ")];
  if (/Unable to locate|arm64/.test(stderr)) {
    hints.push(
      "the arm64 architecture may be unknown to apt: as root, dpkg --add-architecture arm64 && apt-get update (scripts/install-host-deps.sh does this)",
    );
  }
  return new InfraError(`${what} failed`, hints);
}
