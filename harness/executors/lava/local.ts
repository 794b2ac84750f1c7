// A local lab: Debian's lava-dispatcher runs the job with `lava-run` against a device dictionary rendered
// from the qemu device type. The template ships in lava-server, which is not installed: its .deb is fetched
// once with `apt-get download` and unpacked with `dpkg-deb -x` into the cache. Artifacts are given as
// file:// URLs (the dispatcher runs on this machine; no server needed).
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ExecError, type Exec } from "../../lib/exec.ts";
import { InfraError } from "../../lib/errors.ts";
import { cacheDir } from "../../lib/paths.ts";
import { parseLavaLog, type LavaJobLog } from "./log.ts";

const SYSTEM_DEVICE_TYPES = "/usr/share/lava-server/device-types";

/** The folder with qemu.jinja2 and base.jinja2: lava-server's if installed, else unpacked from its .deb. */
export async function deviceTypesDir(exec: Exec, signal?: AbortSignal): Promise<string> {
  if (existsSync(join(SYSTEM_DEVICE_TYPES, "qemu.jinja2"))) return SYSTEM_DEVICE_TYPES;
  const root = cacheDir("lava-server");
  const dir = join(root, "x", "usr", "share", "lava-server", "device-types");
  if (existsSync(join(dir, "qemu.jinja2"))) return dir;
  const dl = join(root, "dl");
  rmSync(dl, { recursive: true, force: true });
  mkdirSync(dl, { recursive: true });
  await exec("apt-get", ["download", "lava-server"], { cwd: dl, signal });
  const deb = readdirSync(dl).find((f) => f.endsWith(".deb"));
  if (!deb) throw new InfraError("apt-get download lava-server gave no .deb");
  await exec("dpkg-deb", ["-x", join(dl, deb), join(root, "x")], { signal });
  if (!existsSync(join(dir, "qemu.jinja2"))) throw new InfraError(`lava-server's .deb has no ${join("device-types", "qemu.jinja2")}`);
  return dir;
}

/** The device dictionary: `{% extends 'qemu.jinja2' %}` with the job's context as its variables. */
export function deviceDictionary(context: Record<string, unknown>, deviceType = "qemu"): string {
  const sets = Object.entries(context).map(([k, v]) => `{% set ${k} = ${JSON.stringify(v)} %}`);
  return [`{% extends '${deviceType}.jinja2' %}`, ...sets, ""].join("\n");
}

// Jinja's own renderer (python3-jinja2 comes with lava-dispatcher); JSON literals are Jinja literals.
const RENDER = `
import sys, jinja2
src = open(sys.argv[2]).read()
env = jinja2.Environment(loader=jinja2.ChoiceLoader([jinja2.DictLoader({"device.jinja2": src}), jinja2.FileSystemLoader(sys.argv[1])]), trim_blocks=True, autoescape=False)
env.globals.update(true=True, false=False, null=None)
sys.stdout.write(env.get_template("device.jinja2").render())
`;

export async function renderDevice(templatesDir: string, dictionary: string, workDir: string, exec: Exec, signal?: AbortSignal): Promise<string> {
  const src = join(workDir, "device.jinja2");
  writeFileSync(src, dictionary);
  const { stdout } = await exec("python3", ["-c", RENDER, templatesDir, src], { signal });
  return stdout;
}

let localJobs = 0;

/**
 * A job id no other lava-run on this host is using now. lava-run keeps a job's downloads under
 * /var/lib/lava/dispatcher/tmp/<job id>/ and removes that whole folder when the job ends (job.py,
 * "Root tmp directory removed"), so of two jobs with one id (a bisection's parallel repeats, two
 * harness runs) the first to end deletes the other's ramdisk under it: seen as "unable to compress
 * file .../tmp/1/deployimages-.../ramdisk.cpio", an infrastructure failure of a good job. The process
 * id keeps harness processes apart, the counter the jobs of one process.
 */
export function localJobId(pid = process.pid): string {
  localJobs = (localJobs + 1) % 1000;
  return String(pid * 1000 + localJobs);
}

export interface LocalLavaRun {
  log: LavaJobLog;
  exitCode: number;
  durationMs: number;
  argv: string[];
  /** exit: lava-run ended the job itself; stopped: the caller's `stop` ended it (a dead kernel); timeout: ours. */
  ended: "exit" | "stopped" | "timeout";
}

/**
 * Runs the job with lava-run: job.yaml, device.yaml and lava.log (the dispatcher's log, lines as they came)
 * in `dir`. lava-run's exit code is not the verdict: the log's job result and test cases are. `stop`
 * ends it early (process group killed) and the log so far is still read; `signal` (Ctrl-C) throws.
 */
export async function runLocalLava(
  opts: {
    dir: string;
    jobYaml: string;
    context: Record<string, unknown>;
    jobId?: string;
    timeoutMs: number;
    onLine?: (line: string) => void;
    stop?: AbortSignal;
  },
  exec: Exec,
  signal?: AbortSignal,
): Promise<LocalLavaRun> {
  const templates = await deviceTypesDir(exec, signal);
  const device = await renderDevice(templates, deviceDictionary(opts.context), opts.dir, exec, signal);
  writeFileSync(join(opts.dir, "device.yaml"), device);
  writeFileSync(join(opts.dir, "job.yaml"), opts.jobYaml);
  const output = join(opts.dir, "lava-output");
  mkdirSync(output, { recursive: true });
  const argv = [
    "lava-run",
    "--job-id",
    opts.jobId ?? localJobId(),
    "--output-dir",
    output,
    "--device",
    join(opts.dir, "device.yaml"),
    join(opts.dir, "job.yaml"),
  ];
  const lines: string[] = [];
  const started = performance.now();
  const signals = [signal, opts.stop].filter((s): s is AbortSignal => s !== undefined);
  let exitCode = -1;
  let ended: LocalLavaRun["ended"] = "exit";
  try {
    // lava-run writes its log (YAML lines) to stderr.
    const res = await exec(argv[0]!, argv.slice(1), {
      signal: signals.length ? AbortSignal.any(signals) : undefined,
      timeoutMs: opts.timeoutMs,
      allowFailure: true,
      onLine: (line) => {
        lines.push(line);
        opts.onLine?.(line);
      },
    });
    exitCode = res.exitCode;
  } catch (e) {
    if (signal?.aborted) throw e;
    if (opts.stop?.aborted) ended = "stopped";
    else if (e instanceof ExecError && /timed out after/.test(e.message)) ended = "timeout";
    else throw e;
  } finally {
    writeFileSync(join(opts.dir, "lava.log"), lines.join("\n") + "\n");
  }
  return { log: parseLavaLog(lines.join("\n")), exitCode, durationMs: performance.now() - started, argv, ended };
}
