// The steps after the build: rootfs, boot, SSH, guest tests, shutdown. Shutdown always runs.
import { readFileSync, writeFileSync } from "node:fs";
import { SshSession } from "../lib/ssh.ts";
import { failed, passed } from "../lib/stage.ts";
import { runGuestTests } from "../stages/guest/run.ts";
import { bootGuest } from "../stages/qemu/boot.ts";
import { authorizedKeyParam, buildRootfs } from "../stages/rootfs/rootfs.ts";
import { recordArtifact } from "./artifacts.ts";
import { treeStateId, type TreeState } from "../lib/git.ts";
import { decodeStack } from "../stages/triage/decode.ts";
import { reportExcerpt } from "../stages/triage/triage.ts";
import type { Step } from "./context.ts";

export const bootSteps: Step[] = [
  {
    title: "Rootfs",
    run: async (ctx, progress) => {
      const r = await buildRootfs(
        {
          buildDir: ctx.build!.buildDir,
          uapiInclude: ctx.build!.uapiInclude,
          headersId: `${uapiStateId(ctx.series!.state)}:${ctx.config!.key}`,
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
    title: "Boot",
    run: async (ctx, progress) => {
      // A key pair per run; the guest gets the public half on the kernel command line.
      const keyFile = ctx.run.file("id_ed25519");
      await ctx.deps.exec("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `wdh-${ctx.run.id}`, "-f", keyFile], { signal: ctx.deps.signal });
      const machine = { ...ctx.job.machine, binary: ctx.qemuBinary ?? ctx.job.machine.binary };
      ctx.run.set("machineDef", machine);
      const r = await bootGuest(
        {
          // The QEMU the harness built for this machine (from the store), or the machine's binary on the host.
          machine,
          kernel: ctx.kernelImage ?? ctx.build!.image,
          initrd: ctx.rootfs!.initrd,
          consoleLog: ctx.run.file("console.log"),
          bootTimeoutMs: ctx.job.profile.timeouts.boot * 1000,
          // The series' and the profile's parameters, then this run's key.
          append: [...ctx.job.append, authorizedKeyParam(readFileSync(`${keyFile}.pub`, "utf8"))],
        },
        { ...ctx.deps, progress },
      );
      writeFileSync(ctx.run.file("qemu.argv.json"), JSON.stringify(r.argv, null, 2) + "\n");
      // QEMU has read the Image and the initramfs: another run may now change the tree and rebuild.
      ctx.releaseTree?.();
      ctx.guest = r.output;
      if (r.output) ctx.bootReadyMs = r.output.readyMs;
      if (r.status === "fail") {
        // Where a kernel died, its stack decoded against this vmlinux.
        const fatal = r.details ?? [];
        const decoded = await decodeStack(fatal, ctx.vmlinux ?? ctx.build!.vmlinux, ctx.build!.treeDir, ctx.deps.exec);
        if (decoded) {
          writeFileSync(ctx.run.file("decoded-stack.txt"), decoded.join("\n") + "\n");
          return { ...r, details: decoded };
        }
      }
      return r;
    },
  },
  {
    title: "SSH",
    run: async (ctx) => {
      const started = performance.now();
      const guest = ctx.guest!;
      try {
        ctx.session = await SshSession.connect(
          { host: "127.0.0.1", port: guest.sshPort, user: "root", privateKeyFile: ctx.run.file("id_ed25519"), pinnedHostKey: guest.hostKey },
          ctx.job.profile.timeouts.ssh * 1000,
        );
      } catch (e) {
        // The kernel may have died while we connected: that is the kernel's failure, not the harness's.
        const fatal = guest.triage.fatal;
        if (fatal) return failed("ssh", started, `kernel died before SSH was up: ${fatal.title}`, { details: reportExcerpt(fatal) });
        throw e;
      }
      ctx.sshReadyMs = (ctx.bootReadyMs ?? 0) + (performance.now() - started);
      return passed("ssh", started, null, { reason: `connected on 127.0.0.1:${guest.sshPort}, host key pinned` });
    },
  },
  {
    title: "Guest tests",
    run: async (ctx, progress) => {
      const r = await runGuestTests(
        { guest: ctx.guest!, session: ctx.session!, tests: ctx.rootfs!.tests, testScale: ctx.job.profile.timeouts.testScale },
        { ...ctx.deps, progress },
      );
      ctx.tests = r.output;
      // A test the kernel died in (or hung in): its report decoded to file:line where vmlinux has line info.
      const killer = r.output?.find((t) => t.kernelReport && t.status === "fail");
      if (killer?.kernelReport) {
        const decoded = await decodeStack(killer.kernelReport, ctx.vmlinux ?? ctx.build!.vmlinux, ctx.build!.treeDir, ctx.deps.exec);
        if (decoded) {
          killer.kernelReport = decoded;
          writeFileSync(ctx.run.file("decoded-stack.txt"), decoded.join("\n") + "\n");
          if (r.status === "fail" && (killer.kernelDied || killer.guestUnresponsive)) {
            return { ...r, details: [...decoded, ...(r.details ?? []).filter((d) => !killer.kernelReport!.includes(d))] };
          }
        }
      }
      return r;
    },
  },
  {
    title: "Shutdown",
    always: true,
    run: async (ctx) => {
      const started = performance.now();
      ctx.session?.close();
      if (ctx.guest) await ctx.guest.shutdown();
      else return;
      return passed("shutdown", started, null);
    },
  },
];

/** The uapi headers change with HEAD, and with local changes only under include/uapi. */
function uapiStateId(s: TreeState): string {
  return (s.changed ?? []).some((p) => p.includes("include/uapi/")) ? treeStateId(s) : s.head;
}
