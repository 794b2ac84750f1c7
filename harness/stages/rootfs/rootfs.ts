// Stage "rootfs": the initramfs, as two newc archives concatenated (the kernel unpacks them in turn):
//   base  busybox-static + dropbear + its libraries (arm64 .debs) + /init   cached by the .debs and overlay
//   tests the compiled guest test suites under /opt/wdh                      cached by the suites
// kept in the artifact store under its content hash, so runs share one file and a run folder can name it
// for good. The run's SSH key is not in it: /init takes it from the kernel command line
// (wdh.authorized_key=, see executors/local-qemu/key.ts), so the same initramfs serves every run and a replay.
import { createReadStream, createWriteStream, existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { writeAtomically } from "../../lib/atomic.ts";
import { cacheDir, repoRoot, sha256, shortHash } from "../../lib/paths.ts";
import { keep, type Stored } from "../../lib/store.ts";
import { failed, passed, type Deps, type StageResult } from "../../lib/stage.ts";
import { compileSuites, type GuestTest, type Suite } from "../guest/suites.ts";
import { entriesFromDir, writeCpio, type CpioEntry } from "./cpio.ts";
import { resolveDebs, unpackDebs } from "./debs.ts";

export const guestPackages = ["busybox-static:arm64", "dropbear-bin:arm64"];
const overlayDir = join(repoRoot, "harness/stages/rootfs/overlay");

export interface RootfsInput {
  buildDir: string;
  uapiInclude: string;
  /** Identifies the headers the C tests compile against (the build's tree and config). */
  headersId: string;
  crossCompile: string;
  suites: Suite[];
  logFile: string;
}

export interface Rootfs {
  /** The initramfs in the artifact store. */
  initrd: string;
  initrdSha256: string;
  parts: { name: string; path: string; cached: boolean }[];
  tests: GuestTest[];
  debs: string[];
}

export async function buildRootfs(input: RootfsInput, deps: Deps): Promise<StageResult<Rootfs>> {
  const started = performance.now();
  const genInitCpio = join(input.buildDir, "usr/gen_init_cpio");
  const exec: typeof deps.exec = (f, a, o = {}) => deps.exec(f, a, { logFile: input.logFile, signal: deps.signal, ...o });

  deps.progress("guest packages");
  const debs = await resolveDebs(guestPackages, exec, deps.signal);
  const base = await baseArchive(
    genInitCpio,
    await unpackDebs(debs, exec, deps.signal),
    debs.map((d) => d.file),
    exec,
  );

  deps.progress("guest tests");
  const compiled = await compileSuites(input.suites, { ...input, exec, signal: deps.signal, logFile: input.logFile });
  if (!compiled.ok) return failed("rootfs", started, compiled.reason, { details: compiled.details, logFile: input.logFile });
  const testsPath = join(cacheDir("rootfs"), `tests-${compiled.compiled.key}.cpio`);
  const testsCached = existsSync(testsPath);
  if (!testsCached) await writeAtomically(testsPath, (tmp) => writeCpio(genInitCpio, entriesFromDir(compiled.compiled.dir, "/opt/wdh"), tmp, exec));

  const initrd = await combined([base.path, testsPath]);
  return passed(
    "rootfs",
    started,
    {
      initrd: initrd.path,
      initrdSha256: initrd.sha256,
      parts: [
        { name: "base", path: base.path, cached: base.cached },
        { name: "tests", path: testsPath, cached: testsCached },
      ],
      tests: compiled.compiled.tests,
      debs: debs.map((d) => d.file),
    },
    { logFile: input.logFile, reason: `${debs.length} packages, ${compiled.compiled.tests.length} guest tests` },
  );
}

/** The parts concatenated once per combination, then kept in the store (a 13 MB file shared by runs). */
async function combined(parts: string[]): Promise<Stored> {
  const path = join(cacheDir("rootfs"), `initramfs-${shortHash(parts.map((p) => basename(p)).join(" "))}.cpio`);
  if (!existsSync(path)) {
    await writeAtomically(path, async (tmp) => {
      const out = createWriteStream(tmp);
      for (const part of parts) await pipeline(createReadStream(part), out, { end: false });
      await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
    });
  }
  return keep(path, "initramfs.cpio");
}

/**
 * The kernel parameter that carries the run's SSH public key to /init ("ssh-ed25519 AAAA... comment"
 * becomes wdh.authorized_key=ssh-ed25519:AAAA...): a public key, so the command line is a fine place.
 */
/** What of the unpacked packages goes into the guest: programs and shared libraries, no docs or locales. */
export function keepInGuest(path: string): boolean {
  return !/^\/(etc|usr\/share|usr\/libexec|usr\/lib\/aarch64-linux-gnu\/(gconv|audit))(\/|$)/.test(path);
}

async function baseArchive(genInitCpio: string, unpacked: string, debFiles: string[], exec: Deps["exec"]) {
  const overlay = entriesFromDir(overlayDir);
  const key = shortHash(JSON.stringify([debFiles, overlay.map((e) => [e.name, e.mode, e.type === "file" ? sha256(readFileSync(e.source)) : ""])]));
  const path = join(cacheDir("rootfs"), `base-${key}.cpio`);
  if (existsSync(path)) return { path, cached: true };
  const entries: CpioEntry[] = [
    ...["/bin", "/sbin", "/usr", "/usr/bin", "/usr/sbin", "/proc", "/sys", "/dev", "/tmp", "/run", "/var", "/etc", "/opt"].map((name): CpioEntry => ({
      type: "dir",
      name,
      mode: name === "/tmp" ? 0o1777 : 0o755,
    })),
    // the kernel opens /dev/console for init before anything is mounted
    { type: "nod", name: "/dev/console", mode: 0o600, dev: "c", major: 5, minor: 1 },
    ...entriesFromDir(unpacked, "", keepInGuest),
    ...overlay,
  ];
  await writeAtomically(path, (tmp) => writeCpio(genInitCpio, entries, tmp, exec));
  return { path, cached: false };
}
