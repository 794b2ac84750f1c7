// The LAVA executor: the run as a LAVA job (job.ts), run by Debian's lava-run on this machine (local.ts)
// or submitted to a lab's REST API and waited for (rest.ts), its log read back (log.ts) and judged like a
// local run (results.ts). Lab and mode from the environment or a config file (config.ts), never the
// command line; the token is sent in a header and written nowhere.
import { createReadStream, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { basename, join } from "node:path";
import { InfraError, isAbort, UsageError } from "../../lib/errors.ts";
import { cacheDir } from "../../lib/paths.ts";
import { failed, type Deps, type StageResult } from "../../lib/stage.ts";
import type { MachineDef } from "../../config/schema.ts";
import { ConsoleTriage } from "../../stages/triage/triage.ts";
import type { Executor, GuestJob, GuestRun } from "../types.ts";
import { lavaSettings, type LavaSettings } from "./config.ts";
import { jobYaml, lavaJob, type LavaJobInput } from "./job.ts";
import { runLocalLava } from "./local.ts";
import { parseLavaLog, parseLogLine, type LavaCase, type LavaJobLog } from "./log.ts";
import { lavaMachineOf } from "./machine.ts";
import { lavaRamdisk } from "./ramdisk.ts";
import { LavaClient, waitForJob } from "./rest.ts";
import { guestRunFromLog, type JobEnd } from "./results.ts";

export interface LavaExecutorOptions {
  /** The environment the settings are read from (default: process.env at run time). */
  env?: () => Record<string, string | undefined>;
  home?: string;
  /** REST client timing (tests make it fast). */
  client?: { timeoutMs?: number; retryDelayMs?: number; attempts?: number };
}

export function createLavaExecutor(opts: LavaExecutorOptions = {}): Executor {
  const settings = () => lavaSettings(opts.env?.() ?? process.env, opts.home);
  return {
    name: "lava",
    concurrent: true,
    // lava-run renders its device with python3-jinja2 (comes with lava-dispatcher); a remote lab needs nothing here.
    requiredTools: (_machine: MachineDef) => (settings().mode === "local" ? ["lava-run", "python3"] : []),
    run: (job, deps) => runLava(job, deps, settings(), opts),
  };
}

export const lava: Executor = createLavaExecutor();

async function runLava(job: GuestJob, deps: Deps, settings: LavaSettings, opts: LavaExecutorOptions): Promise<StageResult<GuestRun> & { output: GuestRun }> {
  const started = performance.now();
  const dir = job.runDir.file("lava");
  mkdirSync(dir, { recursive: true });
  const consoleLog = job.runDir.file("console.log");
  const deviceType = settings.config.deviceType ?? job.machine.lava?.deviceType ?? "qemu";
  if (settings.mode === "local" && deviceType !== "qemu") {
    throw new UsageError(
      `machine ${job.machine.name} is a board (LAVA device type ${deviceType}): it needs a lab (LAVA_URL and LAVA_TOKEN, or url: and token: in the LAVA config file)`,
    );
  }
  const tests = job.tests.map((t) => ({ suite: t.suite, name: t.name, command: t.command, timeoutSeconds: t.timeoutSeconds * job.timeouts.testScale }));
  const machine = deviceType === "qemu" ? lavaMachineOf(job.machine, job.append) : { ...lavaMachineOf(job.machine, job.append), extraOptions: [] };
  const where = settings.mode === "local" ? "local lava-run" : settings.lab.url;
  const evidence: GuestRun = { executor: "lava", argv: [], consoleLog, lines: [], findings: [], tests: [], timings: {}, stages: [], reproduce: [] };

  try {
    deps.progress("LAVA: preparing the ramdisk");
    const ramdisk = ramdiskFor(job.initramfs);
    const urls =
      settings.mode === "local"
        ? { kernel: `file://${job.kernel.image}`, ramdisk: `file://${ramdisk}` }
        : { kernel: await publish(job.kernel.image, settings, deps), ramdisk: await publish(ramdisk, settings, deps) };
    const input: LavaJobInput = {
      jobName: `warpdrive-harness ${job.runDir.id} (${job.machine.name}: ${[...new Set(job.tests.map((t) => t.suite))].join(", ") || "boot"})`,
      machine,
      kernelUrl: urls.kernel,
      ramdiskUrl: urls.ramdisk,
      tests,
      deviceType,
      tags: [...(job.machine.lava?.tags ?? []), ...(settings.config.tags ?? [])],
      ...(job.machine.lava?.bootMethod ? { bootMethod: job.machine.lava.bootMethod } : {}),
      timeouts: { bootMinutes: Math.max(2, Math.ceil(job.timeouts.bootMs / 60_000)) },
    };
    const definition = jobYaml(input);
    writeFileSync(join(dir, "job.yaml"), definition);
    const jobMinutes = (lavaJob(input).timeouts as { job: { minutes: number } }).job.minutes;

    const fetched =
      settings.mode === "local"
        ? await runLocal(job, deps, dir, definition, lavaJob(input), jobMinutes)
        : await runRemote(job, deps, settings, dir, definition, jobMinutes, opts);
    writeFileSync(consoleLog, fetched.log.console.join("\n") + (fetched.log.console.length ? "\n" : ""));
    const { run, stages } = guestRunFromLog(fetched.log, {
      tests: job.tests,
      testScale: job.timeouts.testScale,
      argv: fetched.argv,
      consoleLog,
      reproduce: fetched.reproduce,
      end: fetched.end,
      startedAt: started,
    });
    run.stages = stages;
    return summary(run, started, where);
  } catch (e) {
    const kind = deps.signal.aborted || isAbort(e) ? "interrupted" : e instanceof InfraError ? "infrastructure" : undefined;
    if (!kind) throw e;
    const reason =
      kind === "interrupted"
        ? `interrupted (LAVA on ${where}${e instanceof Error && /canceled/.test(e.message) ? `: ${e.message}` : ""})`
        : `LAVA (${where}): ${e instanceof Error ? e.message : String(e)}`;
    evidence.stages.push(failed("boot", started, reason, { kind, details: e instanceof InfraError ? e.details : [] }));
    evidence.tests = job.tests.map((t) => ({
      suite: t.suite,
      name: t.name,
      status: "skip" as const,
      reason: `not run (${reason})`,
      durationMs: 0,
      exitCode: null,
      output: "",
      kernelLog: [],
      findings: [],
    }));
    return summary(evidence, started, where);
  }
}

/** The run's result: the first failing phase's status, kind and signature (as the local executor gives it). */
function summary(run: GuestRun, started: number, where: string): StageResult<GuestRun> & { output: GuestRun } {
  const durationMs = performance.now() - started;
  const bad = run.stages.find((s) => s.status === "fail");
  if (!bad)
    return {
      stage: "guest",
      status: "pass",
      durationMs,
      reason: `${run.stages.find((s) => s.stage === "guest")?.reason ?? "passed"} (LAVA, ${where})`,
      output: run,
    };
  const { output: _o, ...rest } = bad;
  return { ...rest, durationMs, output: run };
}

interface Fetched {
  log: LavaJobLog;
  argv: string[];
  reproduce: string[];
  end: JobEnd;
}

async function runLocal(job: GuestJob, deps: Deps, dir: string, definition: string, jobObject: Record<string, unknown>, jobMinutes: number): Promise<Fetched> {
  // The console is read once, as it arrives: a kernel that dies ends lava-run at once (LAVA itself would
  // wait for its test shell's timeout), and progress follows LAVA's actions and the tests' markers.
  const live = new ConsoleTriage();
  const stop = new AbortController();
  let loaded = false;
  const onLine = (raw: string) => {
    const line = parseLogLine(raw);
    if (!line) return;
    if (!loaded && line.lvl === "info" && typeof line.msg === "string" && /^end: 1 /.test(line.msg)) {
      loaded = true; // lava-run copied the kernel and ramdisk into its own tmp
      job.artifactsLoaded?.();
    }
    if (line.lvl === "info" && typeof line.msg === "string" && /^start: \d+ /.test(line.msg))
      deps.progress(`LAVA: ${line.msg.replace(/^start: \d+ /, "").replace(/ \(timeout.*$/, "")}`);
    if (line.lvl !== "target" || typeof line.msg !== "string") return;
    const m = /wdh: test-begin (\S+?)#/.exec(line.msg);
    if (m) deps.progress(`LAVA: ${m[1]}`);
    if (!/^<LAVA_/.test(line.msg)) live.feed(line.msg);
    if (live.fatal && !stop.signal.aborted) setTimeout(() => stop.abort(), 500).unref();
  };
  const context = jobObject.context as Record<string, unknown>;
  const r = await runLocalLava({ dir, jobYaml: definition, context, timeoutMs: (jobMinutes + 2) * 60_000, onLine, stop: stop.signal }, deps.exec, deps.signal);
  if (!loaded) job.artifactsLoaded?.();
  const end: JobEnd =
    r.ended === "stopped"
      ? { health: `stopped by the harness: the kernel died (${live.fatal?.title ?? "fatal report"})` }
      : r.ended === "timeout"
        ? { health: "timeout", labFailure: `lava-run still running after ${jobMinutes + 2} min: killed` }
        : r.log.job === "unknown"
          ? { health: "no result", labFailure: `lava-run exited with ${r.exitCode} without a job result (${join(dir, "lava.log")})` }
          : { health: r.log.job === "pass" ? "Complete" : "Incomplete" };
  return {
    log: r.log,
    argv: r.argv,
    end,
    reproduce: [`# LAVA's own log of this job: ${join(dir, "lava.log")}; its job definition and device: ${join(dir, "job.yaml")}, ${join(dir, "device.yaml")}`],
  };
}

async function runRemote(
  job: GuestJob,
  deps: Deps,
  settings: Extract<LavaSettings, { mode: "remote" }>,
  dir: string,
  definition: string,
  jobMinutes: number,
  opts: LavaExecutorOptions,
): Promise<Fetched> {
  const client = new LavaClient(settings.lab, { ...opts.client, signal: deps.signal });
  const origin = settings.lab.url.replace(/\/+$/, "");
  const id = await client.submit(definition);
  const jobUrl = `${origin}/scheduler/job/${id}`;
  // What identifies the job; the lab's URL and the id only, never the token.
  writeFileSync(join(dir, "job.json"), JSON.stringify({ lab: origin, id, url: jobUrl }, null, 2) + "\n");
  deps.progress(`LAVA job ${id} submitted: ${jobUrl}`);
  job.artifactsLoaded?.(); // uploaded: the lab fetches its own copies
  const status = await waitForJob(client, id, {
    pollMs: (settings.config.pollSeconds ?? 5) * 1000,
    timeoutMs: ((settings.config.queueMinutes ?? 60) + jobMinutes) * 60_000,
    signal: deps.signal,
    onState: (s, ms) => deps.progress(`LAVA job ${id}: ${s.state}${s.health !== "Unknown" ? ` (${s.health})` : ""} after ${Math.round(ms / 1000)} s`),
  });
  const text = await client.logs(id);
  writeFileSync(join(dir, "lava.log"), text);
  const log = parseLavaLog(text);
  if (log.cases.length === 0) {
    // Some labs keep results out of the log they serve: the results endpoint has them.
    log.cases.push(
      ...(await client.tests(id)).map((t): LavaCase => ({
        definition: t.suite,
        case: t.name,
        result: (["pass", "fail", "skip"].includes(t.result) ? t.result : "unknown") as LavaCase["result"],
        ...(t.measurement !== undefined ? { measurement: Number(t.measurement) } : {}),
        ...(t.unit ? { units: t.unit } : {}),
      })),
    );
  }
  const comment = status.failure_comment ? `: ${status.failure_comment}` : "";
  const end: JobEnd =
    status.health === "Canceled"
      ? { health: "Canceled", labFailure: `LAVA job ${id} was canceled on the lab${comment}` }
      : { health: `${status.health}${comment}` };
  if (status.failure_comment && !log.errors.includes(status.failure_comment)) log.errors.push(status.failure_comment);
  return {
    log,
    argv: ["lavacli", "--uri", `${origin}/RPC2`, "jobs", "submit", join(dir, "job.yaml")],
    end,
    reproduce: [`# LAVA job ${id}: ${jobUrl} (log: ${join(dir, "lava.log")}); lavacli takes its token from ~/.config/lavacli.yaml`],
  };
}

/** The harness's initramfs as LAVA's ramdisk (one newc archive, LAVA's /init), cached by the initramfs's content. */
function ramdiskFor(initramfs: string): string {
  const data = readFileSync(initramfs);
  const key = createHash("sha256").update(data).digest("hex").slice(0, 24);
  const file = join(cacheDir("lava", "ramdisks"), `${key}-ramdisk.cpio.gz`);
  if (!existsSync(file)) writeFileSync(file, lavaRamdisk(data));
  return file;
}

/**
 * A file where the lab can fetch it: the user's upload command (run with WDH_FILE and WDH_NAME; its
 * output goes to the progress line, not to a file) and the URL prefix it serves WDH_NAME under. Names are
 * content-addressed, so an upload can skip a file the server already has.
 */
async function publish(file: string, settings: Extract<LavaSettings, { mode: "remote" }>, deps: Deps): Promise<string> {
  const name = `${(await fileSha256(file)).slice(0, 24)}-${basename(file).replace(/^[0-9a-f]{16,}-/, "")}`;
  if (settings.artifacts.upload) {
    deps.progress(`LAVA: uploading ${name}`);
    await deps.exec("sh", ["-c", settings.artifacts.upload], { env: { WDH_FILE: file, WDH_NAME: name }, signal: deps.signal });
  }
  return `${settings.artifacts.urlPrefix.replace(/\/+$/, "")}/${name}`;
}

function fileSha256(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash("sha256");
    createReadStream(file)
      .on("data", (c) => h.update(c))
      .on("end", () => resolve(h.digest("hex")))
      .on("error", reject);
  });
}
