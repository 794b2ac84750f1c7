// Stage "kconfig": allnoconfig (or tinyconfig) for the target arch plus the profile's fragments, merged
// with the tree's own scripts/kconfig/merge_config.sh, then olddefconfig; then every option a fragment
// asked for is checked in the final .config. A dropped option fails the stage, by name.
import { existsSync, mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { UsageError } from "../../lib/errors.ts";
import { sha256 } from "../../lib/paths.ts";
import { failed, passed, type Deps, type RanCommand, type StageResult } from "../../lib/stage.ts";
import {
  dependsOnAt,
  describeDropped,
  parseDotConfig,
  parseFragment,
  symbolValues,
  verifyKconfig,
  type DroppedOption,
  type RequestedOption,
} from "./fragments.ts";
import { kernelMakeArgs, kernelMakeEnv, type Toolchain } from "../build/make.ts";

export interface KconfigInput {
  treeDir: string;
  /** Identifies the tree's content (HEAD, plus a hash of local changes). */
  treeStateId: string;
  buildDir: string;
  base: "allnoconfig" | "tinyconfig";
  fragments: string[];
  toolchain: Toolchain;
  logFile: string;
}

export interface KernelConfig {
  dotConfig: string;
  /** Changes when the tree, the base target or any fragment changes. */
  key: string;
  fragments: { path: string; sha256: string }[];
  reused: boolean;
}

const KEY_FILE = ".wdh-config-key";
/** The commands that made the .config in the build dir: a reused .config reports them too (reproduce.sh). */
const RAN_FILE = ".wdh-config-ran.json";

export async function configureKernel(input: KconfigInput, deps: Deps): Promise<StageResult<KernelConfig>> {
  const started = performance.now();
  const fragments = input.fragments.map((path) => {
    if (!existsSync(path)) throw new UsageError(`Kconfig fragment ${path} does not exist`);
    return { path, text: readFileSync(path, "utf8") };
  });
  const fragmentHashes = fragments.map((f) => ({ path: f.path, sha256: sha256(f.text) }));
  const key = sha256(JSON.stringify([input.base, input.treeStateId, input.toolchain, fragmentHashes.map((f) => f.sha256)]));
  mkdirSync(input.buildDir, { recursive: true }); // merge_config.sh -O wants it to exist
  const dotConfig = join(input.buildDir, ".config");
  const keyFile = join(input.buildDir, KEY_FILE);
  const requested: RequestedOption[] = fragments.flatMap((f) => parseFragment(f.text, basename(f.path)));

  const ranFile = join(input.buildDir, RAN_FILE);
  const reused = existsSync(dotConfig) && existsSync(keyFile) && readFileSync(keyFile, "utf8") === key && existsSync(ranFile);
  let ran: RanCommand[];
  if (!reused) {
    deps.progress(`merge_config.sh ${input.base} + ${fragments.length} fragments`);
    ran = await regenerate(input, deps);
    writeFileSync(ranFile, JSON.stringify(ran, null, 2) + "\n");
    writeFileSync(keyFile, key);
  } else {
    ran = JSON.parse(readFileSync(ranFile, "utf8")) as RanCommand[];
  }

  const output: KernelConfig = { dotConfig, key, fragments: fragmentHashes, reused };
  const values = parseDotConfig(readFileSync(dotConfig, "utf8"));
  const dropped = verifyKconfig(requested, values);
  if (dropped.length > 0) {
    for (const d of dropped) d.dependsOn = await definitionOf(d.option, input.treeDir, values, deps);
    writeFileSync(keyFile, ""); // do not trust this .config next time
    return failed("kconfig", started, `${dropped.length} Kconfig option(s) did not survive: ${dropped.map((d) => d.option).join(", ")}`, {
      details: dropped.map(describeDropped),
      logFile: input.logFile,
      // an option that cannot be had is the user's input, not a regression (exit 2)
      kind: "configuration",
      ran,
      signature: { type: "kconfig", options: dropped.map((d) => d.option) },
      output,
    });
  }
  return passed("kconfig", started, output, {
    logFile: input.logFile,
    ran,
    reason: reused ? "unchanged, reused" : `${requested.length} options checked`,
  });
}

/** Where the tree defines an option and what its `depends on` lines ask (git grep over the Kconfig files). */
async function definitionOf(option: string, treeDir: string, values: Map<string, string>, deps: Deps): Promise<DroppedOption["dependsOn"]> {
  const name = option.replace(/^CONFIG_/, "");
  const r = await deps.exec("git", ["grep", "-n", "-E", `^\\s*(menu)?config ${name}\\s*$`, "--", "*Kconfig*"], {
    cwd: treeDir,
    allowFailure: true,
    signal: deps.signal,
  });
  const hit = /^([^:]+):(\d+):/.exec(r.stdout.split("\n")[0] ?? "");
  if (r.exitCode !== 0 || !hit) return undefined;
  const file = join(treeDir, hit[1]!);
  if (!existsSync(file)) return undefined;
  const expressions = dependsOnAt(readFileSync(file, "utf8"), Number(hit[2]) - 1);
  return { defined: `${hit[1]}:${hit[2]}`, expressions, values: symbolValues(expressions, values) };
}

async function regenerate(input: KconfigInput, deps: Deps): Promise<RanCommand[]> {
  const dotConfig = join(input.buildDir, ".config");
  const before = existsSync(dotConfig) ? { text: readFileSync(dotConfig, "utf8"), mtime: statSync(dotConfig).mtime } : undefined;
  // merge_config.sh runs make itself and takes the architecture from the environment only.
  const env = { ...kernelMakeEnv(input.toolchain), ARCH: input.toolchain.arch, CROSS_COMPILE: input.toolchain.crossCompile };
  const ran: RanCommand[] = [];
  const run = (file: string, args: string[]) => {
    // what reproduce.sh says: the tree-relative script, and the variables merge_config.sh reads from the environment
    const shown = file.startsWith(`${input.treeDir}/`) ? file.slice(input.treeDir.length + 1) : file;
    ran.push({
      argv: [shown, ...args],
      cwd: input.treeDir,
      ...(file === "make" ? {} : { env: { ARCH: input.toolchain.arch, CROSS_COMPILE: input.toolchain.crossCompile } }),
    });
    return deps.exec(file, args, { cwd: input.treeDir, env, signal: deps.signal, logFile: input.logFile });
  };
  const mergeConfig = join(input.treeDir, "scripts/kconfig/merge_config.sh");
  if (input.base === "allnoconfig") {
    await run(mergeConfig, ["-n", "-O", input.buildDir, ...input.fragments]);
  } else {
    // merge_config.sh knows allnoconfig (-n) and alldefconfig only: tinyconfig first, then merge onto it.
    await run("make", [...kernelMakeArgs(input), "tinyconfig"]);
    await run(mergeConfig, ["-m", "-O", input.buildDir, dotConfig, ...input.fragments]);
  }
  await run("make", [...kernelMakeArgs(input), "olddefconfig"]);
  // An unchanged .config keeps its old mtime, so make does not think the configuration moved.
  if (before && readFileSync(dotConfig, "utf8") === before.text) utimesSync(dotConfig, before.mtime, before.mtime);
  return ran;
}
