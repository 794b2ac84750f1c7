// Stage "qemu build": configure (meson, through QEMU's configure) and ninja, out of tree, through ccache.
// One build dir per QEMU tree, like the kernel's: switching series on a tree rebuilds what changed.
// A clean tree whose state, configure line and compiler match the last build is not handed to ninja
// at all, so a run on a cached QEMU costs a stat or two.
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { basename, join, relative, resolve } from "node:path";
import { ExecError } from "../../lib/exec.ts";
import { treeStateId, type TreeState } from "../../lib/git.ts";
import { cacheDir, pathSafe, sha256, shortHash } from "../../lib/paths.ts";
import { failed, passed, type Deps, type StageResult } from "../../lib/stage.ts";
import { createProgress } from "../../lib/progress.ts";
import { fileSha256 } from "../build/build.ts";
import { describeBuildError, firstBuildErrors } from "../build/errors.ts";
import type { DevicesFile } from "./devices.ts";

export interface QemuBuildInput {
  treeDir: string;
  state: TreeState;
  /** Options after ./configure (without --cc, which the stage sets). */
  configure: string[];
  /** The ninja targets besides the system emulator (qtest binaries for the check step). */
  extraTargets: string[];
  ccache: boolean;
  buildDir: string;
  logFile: string;
  jobs?: number;
  /** Only these devices (--without-default-devices), or QEMU's defaults for the target when absent. */
  devices?: DevicesFile;
}

export interface QemuBuild {
  buildDir: string;
  binary: string;
  /** sha256 of the binary: what the run booted. */
  binarySha256: string;
  /** What produced this build: tree state, configure line, compiler. */
  key: string;
  compiler: string;
  upToDate: boolean;
  reconfigured: boolean;
  /** The commands that ran (or would run, when up to date), for reproduce.sh. */
  configureArgv: string[];
  ninjaArgv: string[];
  /** The devices file of a --without-default-devices build. */
  devices?: DevicesFile;
}

const STAMP = ".wdh-qemu-stamp";
const CONFIGURE_STAMP = ".wdh-qemu-configure";
const LAST_LOG = ".wdh-last-build.log";
export const QEMU_BINARY = "qemu-system-aarch64";

/**
 * One build dir per QEMU tree. The harness's own trees build in <tree>/build, QEMU's usual place (its
 * .gitignore has /build/, so the tree stays clean), which makes every compiler path relative the same
 * way in every tree: ccache then hits across trees and machines (base_dir /, no cwd in the hash). A
 * user's tree gets a build dir in the cache, so the harness never touches the user's own build/.
 */
export function qemuBuildDirFor(treePath: string, managed: boolean): string {
  return managed ? join(treePath, "build") : cacheDir("qemu-builds", pathSafe(`local-${basename(treePath)}-${shortHash(treePath)}`));
}

export function qemuBuildEnv(ccache: boolean): Record<string, string> {
  if (!ccache) return {};
  // depend mode: meson's -MD depfiles replace a preprocessor run per miss (as for the kernel).
  return { CCACHE_DIR: process.env.CCACHE_DIR ?? cacheDir("ccache"), CCACHE_MAXSIZE: "5G", CCACHE_DEPEND: "1", CCACHE_BASEDIR: "/", CCACHE_NOHASHDIR: "1" };
}

export function configureArgv(input: Pick<QemuBuildInput, "treeDir" | "configure" | "ccache" | "buildDir" | "devices">): string[] {
  return [join(input.treeDir, "configure"), `--cc=${input.ccache ? "ccache " : ""}gcc`, ...input.configure, ...deviceArgs(input)];
}

/**
 * configure takes a devices file by name only, as configs/devices/<target>/<name>.mak in the source tree;
 * a relative name reaches the build dir, which stays out of the tree's git status (and the harness's
 * source trees are never written to).
 */
function deviceArgs(input: Pick<QemuBuildInput, "treeDir" | "buildDir" | "devices">): string[] {
  if (!input.devices) return [];
  const from = join(resolve(input.treeDir), "configs/devices/aarch64-softmmu");
  return ["--without-default-devices", `--with-devices-aarch64=${relative(from, join(resolve(input.buildDir), input.devices.name))}`];
}

/** Written only when missing or different: meson reads it (its depfile names it), so a new mtime would reconfigure. */
function writeDevicesFile(input: QemuBuildInput): void {
  if (!input.devices) return;
  const file = join(input.buildDir, `${input.devices.name}.mak`);
  if (!existsSync(file) || readFileSync(file, "utf8") !== input.devices.text) writeFileSync(file, input.devices.text);
}

export function ninjaArgv(input: Pick<QemuBuildInput, "buildDir" | "extraTargets" | "jobs">, jobs: number): string[] {
  return ["ninja", "-C", input.buildDir, `-j${jobs}`, QEMU_BINARY, ...input.extraTargets];
}

export async function buildQemu(input: QemuBuildInput, deps: Deps): Promise<StageResult<QemuBuild>> {
  const started = performance.now();
  const compiler = (await deps.exec("gcc", ["--version"], { signal: deps.signal })).stdout.split("\n")[0]!.trim();
  const configure = configureArgv(input);
  const configureKey = sha256(JSON.stringify([configure, compiler]));
  const key = sha256(JSON.stringify([treeStateId(input.state), configureKey, input.extraTargets])).slice(0, 24);
  const jobs = input.jobs ?? cpus().length;
  const ninja = ninjaArgv(input, jobs);
  const binary = join(input.buildDir, QEMU_BINARY);
  const stampFile = join(input.buildDir, STAMP);
  const upToDate = input.state.dirty === null && existsSync(binary) && existsSync(stampFile) && readFileSync(stampFile, "utf8") === key;
  let reconfigured = false;
  // which command failed, for the reason: configure, meson configure (keepWerror) or ninja
  let phase = "configure";

  if (!upToDate) {
    rmSync(stampFile, { force: true });
    const configured =
      existsSync(join(input.buildDir, "build.ninja")) &&
      existsSync(join(input.buildDir, CONFIGURE_STAMP)) &&
      readFileSync(join(input.buildDir, CONFIGURE_STAMP), "utf8") === configureKey;
    try {
      if (!configured) {
        // Another configure line or compiler: start from an empty build dir (ccache keeps it quick).
        rmSync(input.buildDir, { recursive: true, force: true });
        mkdirSync(input.buildDir, { recursive: true });
        writeDevicesFile(input);
        deps.progress("configure");
        await deps.exec(configure[0]!, configure.slice(1), {
          cwd: input.buildDir,
          env: qemuBuildEnv(input.ccache),
          signal: deps.signal,
          logFile: input.logFile,
        });
        writeFileSync(join(input.buildDir, CONFIGURE_STAMP), configureKey);
        reconfigured = true;
      }
      writeDevicesFile(input);
      phase = "meson configure";
      await keepWerror(input, deps);
      phase = "ninja";
      await deps.exec(ninja[0]!, ninja.slice(1), {
        env: qemuBuildEnv(input.ccache),
        signal: deps.signal,
        logFile: input.logFile,
        onLine: ninjaProgress(deps.progress),
      });
    } catch (e) {
      if (!(e instanceof ExecError)) throw e;
      const log = readFileSync(input.logFile, "utf8");
      const errors = firstBuildErrors(log, 5).map((err) => (err.file ? { ...err, file: inTree(err.file, input) } : err));
      return failed("qemu-build", started, errors[0] ? `QEMU build failed: ${describeBuildError(errors[0])}` : `${phase} exited with ${e.result.exitCode}`, {
        details: errors.length ? errors.map(describeBuildError) : log.trim().split("\n").slice(-8),
        logFile: input.logFile,
      });
    }
    writeFileSync(stampFile, key);
    copyFileSync(input.logFile, join(input.buildDir, LAST_LOG));
  } else {
    writeFileSync(input.logFile, `# up to date: the tree, configure line and compiler match the last build in ${input.buildDir}; ninja not run\n`, {
      flag: "a",
    });
  }
  if (!existsSync(binary)) return failed("qemu-build", started, `ninja succeeded but did not produce ${binary}`, { logFile: input.logFile });
  const output: QemuBuild = {
    buildDir: input.buildDir,
    binary,
    binarySha256: await fileSha256(binary),
    key,
    compiler,
    upToDate,
    reconfigured,
    configureArgv: configure,
    ...(input.devices ? { devices: input.devices } : {}),
    ninjaArgv: ninja,
  };
  return passed("qemu-build", started, output, { logFile: input.logFile, reason: upToDate ? "up to date, ninja not run" : `${QEMU_BINARY} built` });
}

/**
 * QEMU's configure writes `werror = true` into its meson native file (build/config-meson.cross) for a
 * source that is a git repository, as the harness's trees are; --disable-werror only sets -Dwerror=false
 * on meson's command line, and when a checkout touches a meson.build, ninja's regeneration re-reads the
 * native file and werror comes back (seen with meson 1.7: -Werror on every compile command, so every
 * ccache lookup misses and any warning breaks the build). Take the line out when the configure line says
 * --disable-werror, and tell meson again.
 */
async function keepWerror(input: QemuBuildInput, deps: Deps): Promise<void> {
  const nativeFile = join(input.buildDir, "config-meson.cross");
  if (!input.configure.includes("--disable-werror") || !existsSync(nativeFile)) return;
  const text = readFileSync(nativeFile, "utf8");
  if (!/^werror = true$/m.test(text)) return;
  writeFileSync(nativeFile, text.replace(/^werror = true\n/m, ""));
  const meson = existsSync(join(input.buildDir, "pyvenv/bin/meson")) ? join(input.buildDir, "pyvenv/bin/meson") : "meson";
  await deps.exec(meson, ["configure", "-Dwerror=false"], {
    cwd: input.buildDir,
    env: qemuBuildEnv(input.ccache),
    signal: deps.signal,
    logFile: input.logFile,
  });
}

/** Compiler paths are relative to the build dir: show them relative to the QEMU tree. */
function inTree(file: string, input: Pick<QemuBuildInput, "buildDir" | "treeDir">): string {
  const abs = resolve(input.buildDir, file);
  const rel = relative(input.treeDir, abs);
  return rel.startsWith("..") ? abs : rel;
}

/** ninja's "[n/m] what" status lines as the harness's progress lines (the rest of its output is the log's). */
export function ninjaProgress(report: (message: string) => void): (line: string) => void {
  const progress = createProgress({ report });
  return (line) => {
    const m = /^\[(\d+)\/(\d+)\] (.*)$/.exec(line);
    if (m) progress.update(Number(m[1]), m[3]!.replace(/^Compiling C object /, "CC ").slice(0, 80), Number(m[2]));
  };
}
