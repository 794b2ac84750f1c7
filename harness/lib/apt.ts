// A private apt configuration: one suite of one mirror, with its own sources, lists and archive folders in
// the cache, so the harness can fetch a package of another suite (a QEMU source package, a newer kernel's
// linux-source) with the ordinary apt client without touching the host's apt sources.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { InfraError } from "./errors.ts";
import { cacheDir, pathSafe, shortHash } from "./paths.ts";
import type { Deps } from "./stage.ts";

/** One suite of one Debian mirror. */
export interface AptSuite {
  /** e.g. sid */
  suite: string;
  /** e.g. http://deb.debian.org/debian */
  mirror: string;
  /** The keyring that signs the mirror's Release file; undefined trusts it unsigned (a local test mirror). */
  keyring?: string;
}

/** The private apt configuration: only our sources entry, lists and downloads in the cache. */
export function privateAptOptions(aptDir: string): string[] {
  return [
    "-o",
    `Dir::Etc::sourcelist=/dev/null`,
    "-o",
    `Dir::Etc::sourceparts=${join(aptDir, "sources.list.d")}`,
    "-o",
    `Dir::State::Lists=${join(aptDir, "lists")}`,
    "-o",
    `Dir::Cache=${join(aptDir, "cache")}`,
    "-o",
    "APT::Sandbox::User=root", // the download folders are the caller's, not _apt's
  ];
}

/** A deb822 sources entry for one suite: `deb` for binary packages, `deb-src` for source packages. */
export function aptSourcesEntry(type: "deb" | "deb-src", spec: AptSuite): string {
  return [
    `Types: ${type}`,
    `URIs: ${spec.mirror}`,
    `Suites: ${spec.suite}`,
    "Components: main",
    spec.keyring ? `Signed-By: ${spec.keyring}` : "Trusted: yes",
    "",
  ].join("\n");
}

export function debSrcEntry(spec: AptSuite): string {
  return aptSourcesEntry("deb-src", spec);
}

/**
 * The folder of a private configuration for `type` entries of one mirror and suite (its lists are kept
 * between runs), with the sources entry written, and the apt-get options that use it.
 */
export function privateApt(type: "deb" | "deb-src", spec: AptSuite): { dir: string; options: string[] } {
  // deb-src folders keep the name they had before binary entries existed, so their lists stay cached.
  const key = `${spec.suite}-${shortHash(spec.mirror + (spec.keyring ?? ""))}`;
  const dir = cacheDir("apt", pathSafe(type === "deb-src" ? key : `deb-${key}`));
  for (const sub of ["sources.list.d", "lists/partial", "cache/archives/partial"]) mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, "sources.list.d", "wdh.sources"), aptSourcesEntry(type, spec));
  return { dir, options: privateAptOptions(dir) };
}

/** `apt-get update` of a private configuration; apt exits 0 on some fetch errors, so its E:/Err: lines count too. */
export async function aptUpdate(update: string[], spec: AptSuite, deps: Pick<Deps, "exec" | "signal">): Promise<void> {
  const up = await deps.exec(update[0]!, update.slice(1), { signal: deps.signal, allowFailure: true });
  if (up.exitCode !== 0 || /^(E|Err):/m.test(up.stdout + up.stderr)) {
    throw new InfraError(`apt-get update of ${spec.mirror} ${spec.suite} failed`, (up.stderr || up.stdout).trim().split("\n").slice(-5));
  }
}
