// The steps that turn a job into a kernel: tree, series, kconfig, build. build-kernel runs them alone;
// boot-test runs them first.
import { configStateId, treeStateId } from "../lib/git.ts";
import { basename, dirname } from "node:path";
import { cacheDir, pathSafe, shortHash } from "../lib/paths.ts";
import { toolVersions } from "../lib/tool-versions.ts";
import { acquireLock, withLock } from "../lib/lock.ts";
import { buildKernel } from "../stages/build/build.ts";
import { compilerOf } from "../stages/build/make.ts";
import { configureKernel } from "../stages/kconfig/kconfig.ts";
import { applySeries } from "../stages/series/series.ts";
import { checkBase } from "../stages/series/base.ts";
import { materializeSeries } from "../stages/series/sources.ts";
import { runCheckpatch } from "../stages/checkpatch/checkpatch.ts";
import { UsageError } from "../lib/errors.ts";
import { skipped } from "../lib/stage.ts";
import { prepareTree } from "../stages/tree/tree.ts";
import { checkHost, requiredTools } from "../stages/host/host.ts";
import { executorFor } from "../executors/index.ts";
import { type Context, type Step, need } from "./context.ts";
import { keepKernel } from "./artifacts.ts";

/**
 * One build dir per tree and configuration: a tree the harness extracted (also when given with --tree) has
 * a named one. The configuration is the Kconfig base and the fragments' names in order (not their contents:
 * editing a fragment rebuilds incrementally), so that profiles with different instrumentation (default,
 * debug with KASAN, debug-kcsan) each keep a warm build dir instead of rebuilding everything in turn.
 */
export function buildDirFor(treePath: string, arch: string, base: string, fragments: string[]): string {
  const name = basename(treePath);
  const managed = dirname(treePath) === cacheDir("trees");
  const config = shortHash([base, ...fragments.map((f) => basename(f, ".config"))].join("\n")).slice(0, 8);
  return cacheDir("builds", pathSafe(managed ? `${name}-${arch}-${config}` : `local-${name}-${shortHash(treePath)}-${arch}-${config}`));
}

export const buildSteps: Step[] = [
  {
    id: "host",
    title: "Host",
    run: (ctx, progress) =>
      checkHost(
        {
          // build-kernel runs no guest, but a host that cannot boot what it built is worth knowing early
          tools: [
            ...requiredTools(ctx.job.profile.toolchain, Boolean(ctx.job.qemu)),
            ...executorFor(ctx.job.machine.executor, ctx.executors).requiredTools(ctx.job.machine),
          ],
          isRoot: process.getuid?.() === 0,
        },
        { ...ctx.deps, progress },
      ),
  },
  {
    id: "tree",
    title: "Tree",
    run: async (ctx, progress) => {
      const { job, run } = ctx;
      const toolchain = job.profile.toolchain;
      run.set("inputs", {
        profile: job.profileFile,
        tree: job.tree,
        series: job.series.map((s) => ({ name: s.name, dir: s.dir, base: s.manifest.base, after: s.manifest.after, source: s.source })),
        fragments: job.fragments,
        machine: job.machineFile,
        // kernel parameters after the machine's: the series' and the profile's
        append: job.append,
        tests: job.suites.map((s) => s.def.name),
      });
      run.set(
        "tools",
        await toolVersions(ctx.deps.exec, [
          [compilerOf(toolchain), "--version"],
          ["make", "--version"],
          ["ccache", "--version"],
          ["git", "--version"],
          ...(job.qemu
            ? [
                ["meson", "--version"],
                ["ninja", "--version"],
              ]
            : [[job.machine.binary, "--version"]]),
        ]),
      );
      const r = await prepareTree(job.tree, { ...ctx.deps, progress });
      ctx.tree = r.output;
      if (r.output) ctx.buildDir = buildDirFor(r.output.path, toolchain.arch, job.profile.kconfig.base, job.fragments);
      if (r.output)
        run.set("tree", {
          description: r.output.description,
          path: r.output.path,
          baseCommit: r.output.baseCommit,
          kernelVersion: r.output.kernelVersion,
          ...(r.output.fetchArgv.length ? { fetchArgv: r.output.fetchArgv } : {}),
        });
      return r;
    },
  },
  {
    id: "series",
    title: "Series",
    run: async (ctx, progress) => {
      const tree = need(ctx, "tree");
      const { job } = ctx;
      const deps = { ...ctx.deps, progress };
      const materialized = [];
      for (const spec of job.series) materialized.push(await materializeSeries(spec, { loreUrl: job.profile.lore, offline: job.options.offline }, deps));
      ctx.run.set(
        "seriesSources",
        materialized.map(({ patches, ...s }) => ({ ...s, patches: patches.length })),
      );
      const baseCheck = materialized.length ? await checkBase(materialized[0]!.base, tree, deps) : undefined;
      if (baseCheck) ctx.run.set("baseCheck", baseCheck);
      if (baseCheck && !baseCheck.matches) {
        const details = [`the series says: ${baseCheck.stated}`, `the tree is:     ${baseCheck.actual}`, `compared by ${baseCheck.how}`];
        if (!job.options.ignoreBase)
          throw new UsageError(`series ${materialized[0]!.name} was written against ${baseCheck.stated}, not this tree`, [
            ...details,
            "to try anyway: --ignore-base",
          ]);
        progress(`base differs (${baseCheck.stated} vs ${baseCheck.actual}); trying anyway (--ignore-base)`);
      }
      if (!ctx.treeHeld) ctx.releaseTree = await holdTree(tree.path, ctx.deps.signal, progress);
      const r = await applySeries(
        {
          treeDir: tree.path,
          managed: tree.managed,
          baseCommit: tree.baseCommit,
          patches: materialized.flatMap((m) => m.patches),
          logFile: ctx.run.file("series.log"),
        },
        deps,
      );
      ctx.series = r.output;
      if (r.output) ctx.run.set("series", { base: r.output.base, head: r.output.head, series: materialized.map((m) => m.name), patches: r.output.patches });
      return r;
    },
  },
  {
    id: "checkpatch",
    title: "Checkpatch",
    run: async (ctx, progress) => {
      const mode = ctx.job.options.checkpatch;
      const patches = need(ctx, "series").patches;
      if (mode === "off" || patches.length === 0) return skipped("checkpatch", mode === "off" ? "--checkpatch off" : "no patches");
      const r = await runCheckpatch({ treeDir: need(ctx, "tree").path, patches, mode, logFile: ctx.run.file("checkpatch.log") }, { ...ctx.deps, progress });
      ctx.checkpatch = r.output;
      if (r.output) ctx.run.set("checkpatch", r.output);
      return r;
    },
  },
  {
    id: "kconfig",
    title: "Kconfig",
    run: async (ctx, progress) => {
      const { job } = ctx;
      const tree = need(ctx, "tree");
      const series = need(ctx, "series");
      const buildDir = need(ctx, "buildDir");
      const r = await lockBuildDir(buildDir, ctx, progress, () =>
        configureKernel(
          {
            treeDir: tree.path,
            treeStateId: configStateId(series.state),
            buildDir,
            base: job.profile.kconfig.base,
            fragments: job.fragments,
            toolchain: job.profile.toolchain,
            logFile: ctx.run.file("build.log"),
          },
          { ...ctx.deps, progress },
        ),
      );
      ctx.config = r.output;
      if (r.output) ctx.run.set("kconfig", { base: job.profile.kconfig.base, fragments: r.output.fragments, key: r.output.key });
      return r;
    },
  },
  {
    id: "build",
    title: "Build",
    run: async (ctx, progress) => {
      const { job } = ctx;
      const tree = need(ctx, "tree");
      const series = need(ctx, "series");
      const buildDir = need(ctx, "buildDir");
      const r = await lockBuildDir(buildDir, ctx, progress, () =>
        buildKernel(
          {
            treeDir: tree.path,
            treeStateId: treeStateId(series.state),
            treeDirty: series.state.dirty !== null,
            buildDir,
            configKey: need(ctx, "config").key,
            toolchain: job.profile.toolchain,
            logFile: ctx.run.file("build.log"),
            timeoutMs: job.profile.timeouts.build * 1000,
          },
          { ...ctx.deps, progress },
        ),
      );
      ctx.build = r.output;
      if (r.output) {
        const { treeDir: _t, ...artifacts } = r.output;
        ctx.run.set("kernel", { release: r.output.kernelRelease, ...artifacts });
        await keepKernel(ctx);
      }
      return r;
    },
  },
];

/** Hold a tree against other runs (which would check out other sources or build in its build dir). */
export function holdTree(treePath: string, signal: AbortSignal, progress: (m: string) => void): Promise<() => void> {
  return acquireLock(`${treePath}.in-use.lock`, { signal, onWait: () => progress(`waiting for another run using ${treePath}`) });
}

function lockBuildDir<T>(buildDir: string, ctx: Context, progress: (m: string) => void, fn: () => Promise<T>): Promise<T> {
  return withLock(`${buildDir}.lock`, fn, { signal: ctx.deps.signal, onWait: () => progress(`waiting for another run using ${buildDir}`) });
}

/** The built files: from the artifact store where kept there (immutable, so safe to hard-link), else the build dir. */
export function artifactPaths(ctx: Context): Record<string, string> {
  const b = need(ctx, "build");
  const stored = (ctx.run.manifest.artifacts ?? {}) as Record<string, { path: string } | undefined>;
  const pick = (name: string, fallback: string) => stored[name]?.path ?? fallback;
  return {
    Image: pick("Image", b.image),
    vmlinux: pick("vmlinux", b.vmlinux),
    "System.map": pick("System.map", b.systemMap),
    ".config": pick(".config", b.dotConfig),
    "uapi headers": b.uapiInclude,
  };
}
