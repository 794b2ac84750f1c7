// The steps that give a machine its QEMU when the harness builds it: source, series (with QEMU's own
// checkpatch), build, check (QEMU's qtests for what the series adds). A machine that names a binary on
// the host skips them all.
import { acquireLock } from "../lib/lock.ts";
import { skipped } from "../lib/stage.ts";
import { buildQemu, qemuBuildDirFor } from "../stages/qemu-build/build.ts";
import { checkQemu, qtestPath } from "../stages/qemu-build/check.ts";
import { devicesFor } from "../stages/qemu-build/devices.ts";
import { prepareQemuTree } from "../stages/qemu-build/source.ts";
import { runCheckpatch } from "../stages/checkpatch/checkpatch.ts";
import { applySeries } from "../stages/series/series.ts";
import { checkBase } from "../stages/series/base.ts";
import { materializeSeries } from "../stages/series/sources.ts";
import { UsageError } from "../lib/errors.ts";
import { relative } from "node:path";
import { type Step, need } from "./context.ts";
import { keepQemu } from "./artifacts.ts";

const NO_QEMU_BUILD = "the machine runs QEMU from the host";

export const qemuSteps: Step[] = [
  {
    id: "qemu-source",
    title: "QEMU source",
    run: async (ctx, progress) => {
      const q = ctx.job.qemu;
      if (!q) return skipped("qemu-source", NO_QEMU_BUILD);
      const r = await prepareQemuTree(q.source, { ...ctx.deps, progress });
      ctx.qemu = { tree: r.output! };
      ctx.run.set("qemu", { source: r.output!.description, path: r.output!.path, baseCommit: r.output!.baseCommit, version: r.output!.qemuVersion });
      return r;
    },
  },
  {
    id: "qemu-series",
    title: "QEMU series",
    run: async (ctx, progress) => {
      const q = ctx.job.qemu;
      if (!q || !ctx.qemu) return skipped("qemu-series", NO_QEMU_BUILD);
      const tree = ctx.qemu.tree;
      const deps = { ...ctx.deps, progress };
      const materialized = [];
      for (const spec of q.series) materialized.push(await materializeSeries(spec, { loreUrl: ctx.job.profile.lore, offline: ctx.job.options.offline }, deps));
      const baseCheck = materialized.length ? await checkBase(materialized[0]!.base, tree, deps) : undefined;
      if (baseCheck && !baseCheck.matches && !ctx.job.options.ignoreBase) {
        throw new UsageError(`QEMU series ${materialized[0]!.name} was written against ${baseCheck.stated}, not this QEMU tree`, [
          `the series says: ${baseCheck.stated}`,
          `the tree is:     ${baseCheck.actual}`,
          "to try anyway: --ignore-base",
        ]);
      }
      // Held until QEMU's tests ran: another run must not check out other QEMU sources under this build.
      ctx.qemu.release = await acquireLock(`${tree.path}.in-use.lock`, {
        signal: ctx.deps.signal,
        onWait: () => progress(`waiting for another run using ${tree.path}`),
      });
      const r = await applySeries(
        {
          treeDir: tree.path,
          managed: tree.managed,
          baseCommit: tree.baseCommit,
          patches: materialized.flatMap((m) => m.patches),
          logFile: ctx.run.file("qemu-series.log"),
        },
        deps,
      );
      if (!r.output) return { ...r, stage: "qemu-series" };
      ctx.qemu.series = r.output;
      const patches = r.output.patches;
      let reason = r.reason;
      if (patches.length > 0 && ctx.job.options.checkpatch !== "off") {
        const c = await runCheckpatch(
          { treeDir: tree.path, patches, mode: ctx.job.options.checkpatch, logFile: ctx.run.file("qemu-checkpatch.log"), flavour: "qemu" },
          deps,
        );
        ctx.qemu.checkpatch = c.output;
        if (c.status === "fail") return { ...c, stage: "qemu-series" };
        reason = `${reason}; checkpatch: ${c.reason}`;
      }
      ctx.run.set("qemuSeries", {
        base: r.output.base,
        head: r.output.head,
        series: materialized.map((m) => m.name),
        baseCheck,
        patches: patches.map((p) => ({ ...p, checkpatch: need(ctx, "qemu").checkpatch?.find((v) => v.file === p.file)?.verdict })),
      });
      return { ...r, stage: "qemu-series", reason };
    },
  },
  {
    id: "qemu-build",
    title: "QEMU build",
    run: async (ctx, progress) => {
      const q = ctx.job.qemu;
      if (!q || !ctx.qemu?.series) return skipped("qemu-build", NO_QEMU_BUILD);
      const tree = ctx.qemu.tree;
      const buildDir = qemuBuildDirFor(tree.path, tree.managed);
      const r = await buildQemu(
        {
          treeDir: tree.path,
          state: ctx.qemu.series.state,
          configure: q.def.configure,
          devices: devicesFor(ctx.job.machine, q.def),
          extraTargets: q.def.check.map((name) => relative(buildDir, qtestPath(buildDir, name))),
          ccache: q.def.ccache,
          buildDir,
          logFile: ctx.run.file("qemu-build.log"),
        },
        { ...ctx.deps, progress },
      );
      ctx.qemu.build = r.output;
      if (r.output) {
        await keepQemu(ctx);
        const { upToDate, reconfigured, ...rest } = r.output;
        ctx.run.set("qemuBuild", { ...rest, upToDate, reconfigured });
      }
      return r;
    },
  },
  {
    id: "qemu-check",
    title: "QEMU check",
    run: async (ctx, progress) => {
      const q = ctx.job.qemu;
      const build = ctx.qemu?.build;
      if (!q || !build) return skipped("qemu-check", NO_QEMU_BUILD);
      if (q.def.check.length === 0) {
        need(ctx, "qemu").release?.();
        return skipped("qemu-check", "the machine names no qtests");
      }
      const r = await checkQemu(
        {
          buildDir: build.buildDir,
          binary: build.binary,
          buildKey: build.key,
          tests: q.def.check,
          timeoutMs: q.def.checkTimeout * 1000,
          logFile: ctx.run.file("qemu-check.log"),
        },
        { ...ctx.deps, progress },
      );
      need(ctx, "qemu").checks = r.output;
      need(ctx, "qemu").release?.();
      if (r.output) ctx.run.set("qemuCheck", r.output);
      return r;
    },
  },
];
