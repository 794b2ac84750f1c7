// The local executor: QEMU on this host (the machine file's QEMU parts), the run's SSH key on the kernel
// command line, one SSH session to a hostfwd on 127.0.0.1 with the guest's host key pinned from its
// console, the guest tests over that session, and QEMU shut down whatever happened.
import { writeFileSync } from "node:fs";
import { InfraError, isAbort } from "../../lib/errors.ts";
import { shellQuote } from "../../lib/exec.ts";
import { SshSession } from "../../lib/ssh.ts";
import { failed, passed, skipped, type Deps, type StageResult } from "../../lib/stage.ts";
import type { MachineDef } from "../../config/schema.ts";
import { runGuestTests } from "./guest-tests.ts";
import { bootGuest, type LiveGuest } from "./boot.ts";
import { crashSignature, reportExcerpt } from "../../stages/triage/triage.ts";
import type { Executor, GuestJob, GuestRun } from "../types.ts";
import { makeRunKey } from "./key.ts";

export const localQemu: Executor = {
  name: "local-qemu",
  concurrent: false,
  // A QEMU the harness builds is checked by the QEMU build stages, not looked for on the host.
  requiredTools: (machine: MachineDef) => [...(machine.qemu ? [] : [machine.binary]), "ssh-keygen"],
  run: runLocal,
};

async function runLocal(job: GuestJob, deps: Deps): Promise<StageResult<GuestRun> & { output: GuestRun }> {
  const started = performance.now();
  const consoleLog = job.runDir.file("console.log");
  const keyFile = job.runDir.file("id_ed25519");
  const stages: StageResult<unknown>[] = [];
  const out: GuestRun = { executor: "local-qemu", argv: [], consoleLog, lines: [], findings: [], tests: [], timings: {}, stages, reproduce: [] };
  const finish = (): StageResult<GuestRun> & { output: GuestRun } => {
    const bad = stages.find((s) => s.status === "fail");
    const durationMs = performance.now() - started;
    if (!bad) return { ...passed("guest", started, out, { reason: stages.find((s) => s.stage === "guest")?.reason }), durationMs, output: out };
    const { output: _o, ...rest } = bad;
    return { ...rest, durationMs, output: out };
  };

  let guest: LiveGuest | undefined;
  let session: SshSession | undefined;
  try {
    const keyParam = await makeRunKey(keyFile, `wdh-${job.runDir.id}`, deps);
    const boot = await bootGuest(
      {
        machine: job.machine,
        kernel: job.kernel.image,
        initrd: job.initramfs,
        consoleLog,
        bootTimeoutMs: job.timeouts.bootMs,
        // the series' and the profile's parameters, then this run's key
        append: [...job.append, keyParam],
      },
      deps,
    );
    job.artifactsLoaded?.();
    out.argv = boot.argv;
    out.lines = boot.lines;
    out.findings = boot.findings;
    writeFileSync(job.runDir.file("qemu.argv.json"), JSON.stringify(boot.argv, null, 2) + "\n");
    const { argv: _a, consoleLog: _c, lines: _l, findings: _f, ...bootStage } = boot;
    stages.push({ ...bootStage, output: undefined });
    guest = boot.output;
    if (!guest) {
      out.tests = job.tests.map((t) => notRun(t, `not run (${boot.reason})`));
      return finish();
    }
    out.timings.bootToReadyMs = guest.readyMs;

    const sshStarted = performance.now();
    try {
      session = await SshSession.connect(
        { host: "127.0.0.1", port: guest.sshPort, user: "root", privateKeyFile: keyFile, pinnedHostKey: guest.hostKey },
        job.timeouts.connectMs,
      );
      out.timings.bootToSshMs = guest.readyMs + (performance.now() - sshStarted);
      stages.push(passed("ssh", sshStarted, undefined, { reason: `connected on 127.0.0.1:${guest.sshPort}, host key pinned` }));
    } catch (e) {
      // The kernel may have died while we connected: that is the kernel's failure, not the harness's.
      const fatal = guest.triage.fatal;
      const reason = fatal ? `kernel died before SSH was up: ${fatal.title}` : errorText(e);
      stages.push(
        fatal
          ? failed("ssh", sshStarted, reason, { details: reportExcerpt(fatal), signature: crashSignature(fatal) })
          : failed("ssh", sshStarted, reason, {
              kind: deps.signal.aborted || isAbort(e) ? "interrupted" : "infrastructure",
              details: e instanceof InfraError ? e.details : [],
            }),
      );
      out.tests = job.tests.map((t) => notRun(t, `not run (${reason})`));
      return finish();
    }
    out.reproduce = sshLines(job, guest);

    const tests = await runGuestTests({ guest, session, tests: job.tests, testScale: job.timeouts.testScale }, deps);
    out.tests = tests.output ?? [];
    stages.push({ ...tests, output: undefined });
    return finish();
  } catch (e) {
    // The machinery failed (ssh-keygen, QEMU would not start) or the run was interrupted: still a value.
    const kind = deps.signal.aborted || isAbort(e) ? "interrupted" : e instanceof InfraError ? "infrastructure" : undefined;
    if (!kind) throw e;
    const at = stages.length === 0 ? "boot" : stages.length === 1 ? "ssh" : "guest";
    stages.push(
      failed(at, started, kind === "interrupted" ? `interrupted during ${at}` : errorText(e), { kind, details: e instanceof InfraError ? e.details : [] }),
    );
    return finish();
  } finally {
    const shutdownStarted = performance.now();
    session?.close();
    if (guest) {
      await guest.shutdown();
      guest.triage.finish();
      out.findings = guest.triage.findings;
      stages.push(passed("shutdown", shutdownStarted, undefined));
    } else if (stages.length > 0) {
      stages.push(skipped("shutdown", "QEMU is not running"));
    }
  }
}

/** By hand: the same pinned check as the harness, with a known_hosts file in the run folder. */
function sshLines(job: GuestJob, guest: LiveGuest): string[] {
  const knownHosts = job.runDir.file("known_hosts");
  writeFileSync(knownHosts, `[127.0.0.1]:${guest.sshPort} ${guest.hostKey}\n`);
  const key = job.runDir.file("id_ed25519");
  return [
    `# in another terminal (the guest makes a new host key at each boot: replace known_hosts' key with the one it prints after WDH-HOSTKEY):`,
    `#   ssh -i ${shellQuote(key)} -p ${guest.sshPort} -o UserKnownHostsFile=${shellQuote(knownHosts)} -o StrictHostKeyChecking=yes root@127.0.0.1`,
  ];
}

function notRun(t: GuestJob["tests"][number], reason: string) {
  return { suite: t.suite, name: t.name, status: "skip" as const, reason, durationMs: 0, exitCode: null, output: "", kernelLog: [], findings: [] };
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
