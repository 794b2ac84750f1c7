// Stage "build": the kernel Image, vmlinux and uapi headers, cross-compiled out of tree with ccache.
// A clean tree whose state and config match the last successful build is not rebuilt at all: a no-op
// `make` still costs ~9 s of Kbuild walking the tree.
import { appendFileSync, copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileSha256 } from "../../lib/store.ts";
import { join } from "node:path";
import { cpus } from "node:os";
import { ExecError } from "../../lib/exec.ts";
import { sha256 } from "../../lib/paths.ts";
import { failed, passed, type Deps, type StageResult } from "../../lib/stage.ts";
import { describeBuildError, firstBuildErrors } from "./errors.ts";
import { kernelMakeArgs, kernelMakeEnv, type Toolchain } from "./make.ts";
import { kernelBuildProgress } from "./progress.ts";

export interface BuildInput {
  treeDir: string;
  treeStateId: string;
  /** A tree with local changes is always handed to make, which decides what to rebuild. */
  treeDirty: boolean;
  buildDir: string;
  configKey: string;
  toolchain: Toolchain;
  logFile: string;
  jobs?: number;
  /** make may take this long (the profile's timeouts.build); then it is killed and the stage fails as infrastructure. */
  timeoutMs?: number;
}

export interface BuildArtifacts {
  treeDir: string;
  buildDir: string;
  image: string;
  vmlinux: string;
  systemMap: string;
  dotConfig: string;
  /** headers_install output: the directory to pass as -I to guest tests. */
  uapiInclude: string;
  kernelRelease: string;
  imageSha256: string;
  /** true when make was not run because nothing changed since the last build. */
  upToDate: boolean;
}

const STAMP = ".wdh-build-stamp";
/** The log of the build that made what is in the build dir, copied into runs that reuse it. */
const LAST_LOG = ".wdh-last-build.log";
const TARGETS = ["Image", "headers_install"];

export async function buildKernel(input: BuildInput, deps: Deps): Promise<StageResult<BuildArtifacts>> {
  const started = performance.now();
  const stampFile = join(input.buildDir, STAMP);
  const stamp = sha256(JSON.stringify([input.treeStateId, input.configKey, input.toolchain, TARGETS]));
  const upToDate =
    !input.treeDirty &&
    existsSync(stampFile) &&
    readFileSync(stampFile, "utf8") === stamp &&
    artifactsMissing(input.buildDir, input.toolchain.arch).length === 0;

  const jobs = input.jobs ?? cpus().length;
  // What made the build dir's kernel (also when it was up to date): reproduce.sh's make line.
  const ran = [{ argv: ["make", ...kernelMakeArgs(input), `-j${jobs}`, ...TARGETS], cwd: input.treeDir }];
  if (!upToDate) {
    rmSync(stampFile, { force: true });
    const progress = kernelBuildProgress(input.buildDir, input.configKey, deps.progress, input.treeStateId);
    try {
      await deps.exec("make", [...kernelMakeArgs(input), `-j${jobs}`, ...TARGETS], {
        cwd: input.treeDir,
        env: kernelMakeEnv(input.toolchain),
        signal: deps.signal,
        logFile: input.logFile,
        ...(input.timeoutMs ? { timeoutMs: input.timeoutMs } : {}),
        onLine: (line) => progress.line(line),
      });
      progress.finished();
    } catch (e) {
      if (!(e instanceof ExecError)) throw e;
      if (input.timeoutMs && / timed out after /.test(e.message)) {
        return failed("build", started, `make did not finish within timeouts.build (${input.timeoutMs / 1000} s)`, {
          kind: "infrastructure",
          logFile: input.logFile,
          ran,
        });
      }
      const errors = firstBuildErrors(readFileSync(input.logFile, "utf8"), 5, input.treeDir);
      return failed("build", started, errors[0] ? `build failed: ${describeBuildError(errors[0])}` : `make exited with ${e.result.exitCode}`, {
        details: errors.map(describeBuildError),
        logFile: input.logFile,
        ran,
        ...(errors[0] ? { signature: { type: "compile" as const, file: errors[0].file, line: errors[0].line, message: errors[0].message } } : {}),
      });
    }
  }

  const missing = artifactsMissing(input.buildDir, input.toolchain.arch);
  if (missing.length > 0) {
    return failed("build", started, `make succeeded but did not produce ${missing.join(", ")}`, { logFile: input.logFile });
  }
  writeFileSync(stampFile, stamp);
  if (upToDate) {
    appendFileSync(input.logFile, `# up to date: the tree, config and toolchain match the last build in ${input.buildDir}; make not run\n`);
    if (existsSync(join(input.buildDir, LAST_LOG))) appendFileSync(input.logFile, readFileSync(join(input.buildDir, LAST_LOG)));
  } else {
    copyFileSync(input.logFile, join(input.buildDir, LAST_LOG));
  }
  const output: BuildArtifacts = {
    treeDir: input.treeDir,
    buildDir: input.buildDir,
    image: join(input.buildDir, "arch", input.toolchain.arch, "boot", "Image"),
    vmlinux: join(input.buildDir, "vmlinux"),
    systemMap: join(input.buildDir, "System.map"),
    dotConfig: join(input.buildDir, ".config"),
    uapiInclude: join(input.buildDir, "usr", "include"),
    kernelRelease: readFileSync(join(input.buildDir, "include/config/kernel.release"), "utf8").trim(),
    imageSha256: await fileSha256(join(input.buildDir, "arch", input.toolchain.arch, "boot", "Image")),
    upToDate,
  };
  return passed("build", started, output, {
    logFile: input.logFile,
    ran,
    reason: upToDate ? "up to date, make not run" : `${output.kernelRelease} built`,
  });
}

function artifactsMissing(buildDir: string, arch: string): string[] {
  return [`arch/${arch}/boot/Image`, "vmlinux", "System.map", ".config", "usr/include/linux/if_alg.h", "include/config/kernel.release"].filter(
    (f) => !existsSync(join(buildDir, f)),
  );
}

/** The one sha256-of-a-file helper lives with the artifact store. */
export { fileSha256 };
