// The local executor's boot stage: start QEMU, read its console once (console.log, triage and readiness from the same
// lines), and hand back a live guest once it printed its host key and is listening for SSH.
// A panic, a stall (soft or hard lockup, RCU stall, hung task) or QEMU exiting ends the boot at once; a
// silent guest ends it at the boot timeout. Whatever happened, the result carries the argv, the console
// log and the findings.
import { createServer } from "node:net";
import { shellQuote } from "../../lib/exec.ts";
import { failed, passed, type Deps, type StageResult } from "../../lib/stage.ts";
import type { MachineDef } from "../../config/schema.ts";
import { ConsoleTriage, crashSignature, reportExcerpt, type Finding } from "../../stages/triage/triage.ts";
import { qemuArgv } from "../../stages/qemu/argv.ts";

export interface BootInput {
  machine: MachineDef;
  kernel: string;
  initrd: string;
  consoleLog: string;
  bootTimeoutMs: number;
  append?: string[];
}

export type GuestEnd = { kind: "fatal"; finding: Finding } | { kind: "exited"; exitCode: number };

/** Reports that mean a kernel that boots no further: it spins or waits forever (a panic is fatal anyway). */
export const STALL_KINDS: ReadonlySet<string> = new Set(["soft-lockup", "hard-lockup", "rcu-stall", "hung-task"]);
/** A stall report still printing its stack after this long is taken as it is. */
const STALL_REPORT_WAIT_MS = 3000;

/** What a boot leaves behind, whether it reached the ready marker or not. */
export interface BootEvidence {
  argv: string[];
  consoleLog: string;
  /** Every console line read, and every finding in them (the triage is finished when the boot failed). */
  lines: string[];
  findings: Finding[];
}

export type BootResult = StageResult<LiveGuest> & BootEvidence;

export interface LiveGuest {
  argv: string[];
  sshPort: number;
  hostKey: string;
  triage: ConsoleTriage;
  /** Every console line so far (the same lines as console.log). */
  lines: string[];
  /** Milliseconds from QEMU start to the ready marker. */
  readyMs: number;
  /** Resolves when the kernel died or QEMU exited: tests race against it. */
  ended: Promise<GuestEnd>;
  /** Resolves when a console line matches (or undefined after timeoutMs). */
  waitForLine(match: (line: string) => boolean, timeoutMs: number): Promise<string | undefined>;
  shutdown(): Promise<void>;
}

export const HOSTKEY_MARKER = "WDH-HOSTKEY ";
export const READY_MARKER = "WDH-READY";

export async function bootGuest(input: BootInput, deps: Deps): Promise<BootResult> {
  const started = performance.now();
  const sshPort = await freeLoopbackPort();
  const argv = qemuArgv(input.machine, { kernel: input.kernel, initrd: input.initrd, sshPort, append: input.append });
  const stop = new AbortController();
  const onOuterAbort = () => stop.abort();
  deps.signal.addEventListener("abort", onOuterAbort, { once: true });

  const triage = new ConsoleTriage();
  const lines: string[] = [];
  const waiters = new Set<{ match: (l: string) => boolean; resolve: (l: string) => void }>();
  let hostKey: string | undefined;
  let resolveReady!: () => void;
  const ready = new Promise<void>((r) => (resolveReady = r));
  let resolveEnded!: (e: GuestEnd) => void;
  const ended = new Promise<GuestEnd>((r) => (resolveEnded = r));

  // Before the guest is ready, a stall ends the boot like a panic: nothing after it will reach the marker.
  let booting = true;
  let stallTimer: NodeJS.Timeout | undefined;
  const onLine = (raw: string) => {
    const line = raw.replace(/\r$/, "");
    lines.push(line);
    for (const f of triage.feed(line)) {
      if (triage.fatal === f || (booting && STALL_KINDS.has(f.kind))) resolveEnded({ kind: "fatal", finding: f });
    }
    const pending = booting ? triage.pending() : undefined;
    if (pending && STALL_KINDS.has(pending.kind) && !stallTimer) {
      stallTimer = setTimeout(() => resolveEnded({ kind: "fatal", finding: triage.pending() ?? pending }), STALL_REPORT_WAIT_MS);
      stallTimer.unref();
    }
    if (line.startsWith(HOSTKEY_MARKER)) hostKey = line.slice(HOSTKEY_MARKER.length).trim();
    if (line.trim() === READY_MARKER) resolveReady();
    for (const w of waiters) {
      if (!w.match(line)) continue;
      waiters.delete(w);
      w.resolve(line);
    }
    if (lines.length % 20 === 0) deps.progress(line.slice(0, 100));
  };

  const qemu = deps
    .exec(argv[0]!, argv.slice(1), { signal: stop.signal, logFile: input.consoleLog, onLine, allowFailure: true })
    .then((r) => {
      resolveEnded({ kind: "exited", exitCode: r.exitCode });
      return r;
    })
    .catch((e: unknown) => {
      resolveEnded({ kind: "exited", exitCode: -1 });
      return e instanceof Error ? e : new Error(String(e));
    });

  const shutdown = async () => {
    stop.abort();
    await qemu;
    deps.signal.removeEventListener("abort", onOuterAbort);
  };

  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), input.bootTimeoutMs)));
  const first = await Promise.race([ready.then(() => "ready" as const), ended, timeout]);
  clearTimeout(timer);
  clearTimeout(stallTimer);
  booting = false;

  const evidence = (): BootEvidence & { logFile: string } => ({
    argv,
    consoleLog: input.consoleLog,
    logFile: input.consoleLog,
    lines,
    findings: triage.findings,
  });
  if (first === "ready" && hostKey) {
    const guest: LiveGuest = {
      argv,
      sshPort,
      hostKey,
      triage,
      lines,
      readyMs: performance.now() - started,
      ended,
      shutdown,
      waitForLine: (match, timeoutMs) =>
        new Promise((resolve) => {
          const w = { match, resolve: (l: string) => (clearTimeout(t), resolve(l)) };
          const t = setTimeout(() => (waiters.delete(w), resolve(undefined)), timeoutMs);
          waiters.add(w);
        }),
    };
    return { ...passed("boot", started, guest, { reason: `ready in ${(guest.readyMs / 1000).toFixed(1)} s`, ran: [{ argv }] }), ...evidence() };
  }

  await shutdown();
  triage.finish();
  const tail = lines.slice(-25);
  const fail = (reason: string, extra: Partial<StageResult<LiveGuest>>): BootResult => ({
    ...failed<LiveGuest>("boot", started, reason, { ran: [{ argv }], ...extra }),
    ...evidence(),
  });
  const crash = (f: Finding, verb: string) => fail(`kernel ${verb} during boot: ${f.title}`, { details: reportExcerpt(f), signature: crashSignature(f) });
  if (deps.signal.aborted) return fail("interrupted during boot", { kind: "interrupted", details: tail });
  if (first === "timeout") {
    // The kernel's own word on why it never got there, if it said anything.
    const said = triage.findings.find((f) => f.severity !== "info");
    if (said) return crash(said, STALL_KINDS.has(said.kind) ? "hung" : "failed");
    // Not a line at all: QEMU never ran the kernel, which says nothing about the kernel.
    if (lines.length === 0) return fail(`no ready marker within ${input.bootTimeoutMs / 1000} s: the console stayed empty`, { kind: "infrastructure" });
    return fail(`no ready marker within ${input.bootTimeoutMs / 1000} s (the guest never reached SSH)`, { details: tail });
  }
  if (first === "ready") return fail("the guest said it was ready but printed no host key", { details: tail });
  if (first.kind === "fatal") return crash(first.finding, STALL_KINDS.has(first.finding.kind) ? "hung" : "died");
  const kernelSpoke = lines.some((l) => /Booting Linux|Linux version/.test(l));
  if (!kernelSpoke) {
    return fail(`QEMU exited with ${first.exitCode} before the kernel printed anything`, {
      kind: "infrastructure",
      details: [`$ ${argv.map(shellQuote).join(" ")}`, ...tail],
    });
  }
  // QEMU exits at once on a panic (panic=-1, -no-reboot), often before the report's last line.
  const cause = triage.fatal ?? triage.findings.find((f) => f.severity !== "info");
  if (cause) return crash(cause, "died");
  return fail(`QEMU exited with ${first.exitCode} during boot`, { details: tail });
}

export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
