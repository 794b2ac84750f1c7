// The one door to subprocesses. argv arrays only (never a shell string); every child runs in its own
// process group, is killed with that group on abort, timeout or harness exit, and is logged.
import { createWriteStream, type WriteStream } from "node:fs";
import { createInterface } from "node:readline";
import { execa } from "execa";
import { InfraError, InterruptedError, ToolMissingError } from "./errors.ts";

export interface ExecOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  signal?: AbortSignal;
  /** Kill the process group after this long and throw. */
  timeoutMs?: number;
  /** Append the command line and all its output to this file. */
  logFile?: string;
  /** Called for each line of output as it arrives. */
  onLine?: (line: string, stream: "stdout" | "stderr") => void;
  input?: string | Buffer;
  /** Write stdout to this file instead of capturing it (binary output, e.g. a cpio archive). */
  stdoutFile?: string;
  /** Return a non-zero exit as a result instead of throwing. */
  allowFailure?: boolean;
  /**
   * Give the child a pipe on stdin that stays open, written to by nobody, until the child ends: a child
   * that waits for EOF there (a lock holder) then ends with the harness, even when the harness is
   * SIGKILLed and its exit hook never runs.
   */
  stdinOpen?: boolean;
}

export interface ExecResult {
  argv: string[];
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export type Exec = (file: string, args: string[], options?: ExecOptions) => Promise<ExecResult>;

export class ExecError extends InfraError {
  constructor(
    readonly result: ExecResult,
    message?: string,
  ) {
    const tail = (result.stderr || result.stdout).trimEnd().split("\n").slice(-15);
    super(message ?? `${result.argv.join(" ")} exited with ${result.exitCode}`, tail);
  }
}

const liveGroups = new Set<number>();
let exitHookInstalled = false;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** Kill every process group still running (used on harness exit and by the signal handler). */
export function killAllChildren(signal: NodeJS.Signals = "SIGKILL"): void {
  for (const pid of liveGroups) killGroup(pid, signal);
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => killAllChildren("SIGKILL"));
}

/** Quote one argument for display and for reproduce.sh. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

export function createExec(defaults: { logFile?: string } = {}): Exec {
  return async (file, args, options = {}) => {
    installExitHook();
    const argv = [file, ...args];
    const logFile = options.logFile ?? defaults.logFile;
    const log: WriteStream | undefined = logFile ? createWriteStream(logFile, { flags: "a" }) : undefined;
    log?.write(`$ ${argv.map(shellQuote).join(" ")}${options.cwd ? `   (in ${options.cwd})` : ""}\n`);
    if (options.signal?.aborted) throw new InterruptedError(`cancelled before ${file} started`);

    const started = performance.now();
    const child = execa(file, args, {
      cwd: options.cwd,
      env: options.env,
      extendEnv: true,
      detached: true, // own process group, so make's and QEMU's children die with it
      cleanup: false,
      reject: false,
      stripFinalNewline: false,
      input: options.input,
      stdin: options.input === undefined && !options.stdinOpen ? "ignore" : "pipe",
      ...(options.stdoutFile ? { stdout: { file: options.stdoutFile } } : {}),
    });
    if (child.pid !== undefined) liveGroups.add(child.pid);

    let killedFor: "abort" | "timeout" | undefined;
    const kill = (why: "abort" | "timeout") => {
      if (child.pid === undefined || killedFor) return;
      killedFor = why;
      killGroup(child.pid, "SIGTERM");
      setTimeout(() => child.pid !== undefined && killGroup(child.pid, "SIGKILL"), 3000).unref();
    };
    const onAbort = () => kill("abort");
    options.signal?.addEventListener("abort", onAbort, { once: true });
    const timer = options.timeoutMs ? setTimeout(() => kill("timeout"), options.timeoutMs) : undefined;

    for (const stream of ["stdout", "stderr"] as const) {
      const source = child[stream];
      if (!source) continue;
      createInterface({ input: source, crlfDelay: Infinity }).on("line", (line) => {
        log?.write(`${line}\n`);
        options.onLine?.(line, stream);
      });
    }

    const outcome = await child;
    if (timer) clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
    if (child.pid !== undefined) {
      killGroup(child.pid, "SIGKILL"); // reap stragglers that left the leader behind
      liveGroups.delete(child.pid);
    }
    const result: ExecResult = {
      argv,
      exitCode: outcome.exitCode ?? (outcome.signal ? 128 : -1),
      stdout: String(outcome.stdout ?? ""),
      stderr: String(outcome.stderr ?? ""),
      durationMs: performance.now() - started,
    };
    log?.write(`# exit ${result.exitCode} after ${(result.durationMs / 1000).toFixed(1)} s\n`);
    await new Promise<void>((resolve) => (log ? log.end(resolve) : resolve()));

    if ((outcome as { code?: string }).code === "ENOENT" || (/ENOENT/.test(String(outcome.message ?? "")) && outcome.exitCode === undefined)) {
      throw new ToolMissingError(`${file}: command not found`, ["run scripts/install-host-deps.sh as root"]);
    }
    if (killedFor === "abort") throw new InterruptedError(`${file} was interrupted`);
    if (killedFor === "timeout") {
      throw new ExecError(result, `${argv.map(shellQuote).join(" ")} timed out after ${options.timeoutMs} ms`);
    }
    if (result.exitCode !== 0 && !options.allowFailure) throw new ExecError(result);
    return result;
  };
}
