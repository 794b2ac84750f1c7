// The steps after the build: the rootfs, then the machine's executor boots it and runs the guest tests
// (boot, ssh, guest and shutdown come back as its phases). The kernel's reports are decoded here, for
// whichever executor ran: triage and decoding do not care where the console came from.
import { writeFileSync } from "node:fs";
import { buildRootfs } from "../stages/rootfs/rootfs.ts";
import { recordArtifact } from "./artifacts.ts";
import { treeStateId, type TreeState } from "../lib/git.ts";
import { decodeStack } from "../stages/triage/decode.ts";
import { executorFor, type GuestRun } from "../executors/index.ts";
import { type Context, type Step, need } from "./context.ts";

export const bootSteps: Step[] = [
  {
    id: "rootfs",
    title: "Rootfs",
    run: async (ctx, progress) => {
      const r = await buildRootfs(
        {
          buildDir: need(ctx, "build").buildDir,
          uapiInclude: need(ctx, "build").uapiInclude,
          headersId: `${uapiStateId(need(ctx, "series").state)}:${need(ctx, "config").key}`,
          crossCompile: ctx.job.profile.toolchain.crossCompile,
          suites: ctx.job.suites,
          logFile: ctx.run.file("rootfs.log"),
        },
        { ...ctx.deps, progress },
      );
      ctx.rootfs = r.output;
      if (r.output) {
        ctx.run.set("rootfs", { debs: r.output.debs, parts: r.output.parts, tests: r.output.tests.map((t) => `${t.suite}/${t.name}`) });
        recordArtifact(ctx, "initramfs", { path: r.output.initrd, sha256: r.output.initrdSha256 });
        // What a replay runs again: each test as it was built into that initramfs.
        ctx.run.set("guestTests", r.output.tests);
      }
      return r;
    },
  },
  {
    id: "boot",
    title: "Boot and test",
    run: async (ctx, progress) => {
      const machine = { ...ctx.job.machine, binary: ctx.qemuBinary ?? ctx.job.machine.binary };
      ctx.run.set("machineDef", machine);
      const executor = executorFor(machine.executor ?? "local-qemu", ctx.executors); // run folders from before executors name none
      const timeouts = ctx.job.profile.timeouts;
      const r = await executor.run(
        {
          kernel: {
            image: ctx.kernelImage ?? need(ctx, "build").image,
            vmlinux: ctx.vmlinux ?? need(ctx, "build").vmlinux,
            treeDir: need(ctx, "build").treeDir,
          },
          initramfs: need(ctx, "rootfs").initrd,
          machine,
          append: ctx.job.append,
          tests: need(ctx, "rootfs").tests,
          timeouts: { bootMs: timeouts.boot * 1000, connectMs: timeouts.ssh * 1000, testScale: timeouts.testScale },
          runDir: { id: ctx.run.id, file: ctx.run.file },
          // The executor has read the Image and the initramfs: another run may now change the tree and rebuild.
          artifactsLoaded: () => ctx.releaseTree?.(),
        },
        { ...ctx.deps, progress },
      );
      ctx.guestRun = r.output;
      ctx.run.set("executor", executor.name);
      await decodeKernelReports(ctx, r.output);
      return r.output.stages;
    },
  },
];

/** The uapi headers change with HEAD, and with local changes only under include/uapi. */
function uapiStateId(s: TreeState): string {
  return (s.changed ?? []).some((p) => p.includes("include/uapi/")) ? treeStateId(s) : s.head;
}

/**
 * The kernel's report that ended the boot, or the one a test died or hung in, decoded to file:line
 * against this vmlinux (decoded-stack.txt); the failing phase's details become the decoded lines.
 */
async function decodeKernelReports(ctx: Context, run: GuestRun): Promise<void> {
  const vmlinux = ctx.vmlinux ?? ctx.build?.vmlinux;
  const treeDir = ctx.build?.treeDir;
  if (!vmlinux || !treeDir) return;
  const failing = run.stages.find((s) => s.status === "fail");
  const killer = run.tests.find((t) => t.kernelReport && t.status === "fail");
  const report = failing?.signature?.type === "crash" && failing.stage !== "guest" ? failing.details : killer?.kernelReport;
  if (!report) return;
  const decoded = await decodeStack(report, vmlinux, treeDir, ctx.deps.exec);
  if (!decoded) return;
  writeFileSync(ctx.run.file("decoded-stack.txt"), decoded.join("\n") + "\n");
  if (killer && report === killer.kernelReport) killer.kernelReport = decoded;
  if (failing && (failing.stage !== "guest" || killer?.kernelDied || killer?.guestUnresponsive)) {
    failing.details = [...decoded, ...(failing.details ?? []).filter((d) => !report.includes(d))];
  }
}
