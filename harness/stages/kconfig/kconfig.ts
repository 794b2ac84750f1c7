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

  const reused = existsSync(dotConfig) && existsSync(keyFile) && readFileSync(keyFile, "utf8") === key;
  if (!reused) {
    deps.progress(`merge_config.sh ${input.base} + ${fragments.length} fragments`);
    await regenerate(input, deps);
    writeFileSync(keyFile, key);
  }
  // Built from this run's inputs, not recorded by the run that made the .config: the key covers the fragments'
  // contents, not their paths, so another clone's run may have made it (reproduce.sh must name files that exist).
  const ran = configCommands(input).map((c) => c.shown);

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

/** The commands that make the .config, with this run's paths: a reused .config reports them too (reproduce.sh). */
function configCommands(input: KconfigInput): { file: string; args: string[]; shown: RanCommand }[] {
  const env = { ARCH: input.toolchain.arch, CROSS_COMPILE: input.toolchain.crossCompile };
  const step = (file: string, args: string[]) => {
    // what reproduce.sh says: the tree-relative script, and the variables merge_config.sh reads from the environment
    const shownFile = file.startsWith(`${input.treeDir}/`) ? file.slice(input.treeDir.length + 1) : file;
    return { file, args, shown: { argv: [shownFile, ...args], cwd: input.treeDir, ...(file === "make" ? {} : { env }) } };
  };
  const mergeConfig = join(input.treeDir, "scripts/kconfig/merge_config.sh");
  const dotConfig = join(input.buildDir, ".config");
  const olddefconfig = step("make", [...kernelMakeArgs(input), "olddefconfig"]);
  if (input.base === "allnoconfig") return [step(mergeConfig, ["-n", "-O", input.buildDir, ...input.fragments]), olddefconfig];
  // merge_config.sh knows allnoconfig (-n) and alldefconfig only: tinyconfig first, then merge onto it.
  return [step("make", [...kernelMakeArgs(input), "tinyconfig"]), step(mergeConfig, ["-m", "-O", input.buildDir, dotConfig, ...input.fragments]), olddefconfig];
}

async function regenerate(input: KconfigInput, deps: Deps): Promise<void> {
  const dotConfig = join(input.buildDir, ".config");
  const before = existsSync(dotConfig) ? { text: readFileSync(dotConfig, "utf8"), mtime: statSync(dotConfig).mtime } : undefined;
  // merge_config.sh runs make itself and takes the architecture from the environment only.
  const env = { ...kernelMakeEnv(input.toolchain), ARCH: input.toolchain.arch, CROSS_COMPILE: input.toolchain.crossCompile };
  for (const c of configCommands(input)) await deps.exec(c.file, c.args, { cwd: input.treeDir, env, signal: deps.signal, logFile: input.logFile });
  // An unchanged .config keeps its old mtime, so make does not think the configuration moved.
  if (before && readFileSync(dotConfig, "utf8") === before.text) utimesSync(dotConfig, before.mtime, before.mtime);
}
