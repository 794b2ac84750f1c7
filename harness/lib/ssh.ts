// One SSH session per boot (ssh2), commands with a timeout each, the guest's host key pinned.
import { readFileSync } from "node:fs";
import { Client, type ClientChannel } from "ssh2";
import { InfraError } from "./errors.ts";

export interface SshTarget {
  host: string;
  port: number;
  user: string;
  privateKeyFile: string;
  /** "ssh-ed25519 AAAA...": the only host key accepted. */
  pinnedHostKey: string;
}

export interface CommandResult {
  exitCode: number | null;
  signal?: string;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
}

/** How long a channel being closed may take to confirm it before the command is given up on. */
const CLOSE_GRACE_MS = 2000;

export class SshSession {
  /** Resolves, with why, once the connection that was up went away (the guest's side closed it, a reset). */
  readonly closed: Promise<string>;

  private constructor(private readonly client: Client) {
    // The first of these is the reason; a promise settles once, so later ones change nothing.
    this.closed = new Promise((resolve) => {
      client.on("error", (e: Error) => resolve(e.message));
      client.on("close", () => resolve("connection closed"));
    });
  }

  static connect(target: SshTarget, timeoutMs: number): Promise<SshSession> {
    const pinned = Buffer.from(target.pinnedHostKey.trim().split(/\s+/)[1] ?? "", "base64");
    return new Promise((resolve, reject) => {
      const client = new Client();
      let hostKeyMismatch = false;
      client
        .on("ready", () => resolve(new SshSession(client)))
        .on("error", (e) =>
          reject(
            new InfraError(
              hostKeyMismatch
                ? `the guest's SSH host key is not the one it printed on its console: refusing to connect`
                : `SSH to ${target.host}:${target.port} failed: ${e.message}`,
            ),
          ),
        )
        .connect({
          host: target.host,
          port: target.port,
          username: target.user,
          privateKey: readFileSync(target.privateKeyFile),
          readyTimeout: timeoutMs,
          hostVerifier: (key: Buffer) => {
            hostKeyMismatch = !key.equals(pinned);
            return !hostKeyMismatch;
          },
          algorithms: { serverHostKey: ["ssh-ed25519"] },
        });
    });
  }

  /**
   * Run one command; a command that outlives its timeout is cut off (its channel closed). The timeout
   * counts from the request, not from the channel's opening, and a guest that no longer answers (a locked
   * CPU, a wedged network stack) confirms neither the opening nor the close: after CLOSE_GRACE_MS the
   * command is given up on, timed out, whatever the other side says later.
   */
  run(command: string, timeoutMs: number, signal?: AbortSignal): Promise<CommandResult> {
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const out: Buffer[] = [];
      const errOut: Buffer[] = [];
      let stream: ClientChannel | undefined;
      let timedOut = false;
      let settled = false;
      let grace: NodeJS.Timeout | undefined;
      let exitCode: number | null = null;
      let exitSignal: string | undefined;
      const settle = (how: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearTimeout(grace);
        signal?.removeEventListener("abort", onAbort);
        how();
      };
      const finish = () =>
        settle(() =>
          resolve({
            exitCode,
            signal: exitSignal,
            stdout: Buffer.concat(out).toString("utf8"),
            stderr: Buffer.concat(errOut).toString("utf8"),
            durationMs: performance.now() - started,
            timedOut,
          }),
        );
      const stop = () => {
        if (stream) {
          try {
            stream.signal("KILL");
          } catch {
            // dropbear may not support signals; closing the channel is enough
          }
          stream.close();
        }
        grace ??= setTimeout(finish, CLOSE_GRACE_MS);
      };
      const timer = setTimeout(() => {
        timedOut = true;
        stop();
      }, timeoutMs);
      const onAbort = () => stop();
      signal?.addEventListener("abort", onAbort, { once: true });
      if (signal?.aborted) stop();
      this.client.exec(command, (err, opened: ClientChannel) => {
        if (settled) {
          // opened after it was given up on: nobody reads it
          if (!err) opened.close();
          return;
        }
        if (err) return settle(() => reject(new InfraError(`SSH exec failed: ${err.message}`)));
        stream = opened;
        stream.on("data", (d: Buffer) => out.push(d));
        stream.stderr.on("data", (d: Buffer) => errOut.push(d));
        stream.on("exit", (code: number | null, sig?: string) => {
          exitCode = code;
          exitSignal = sig ?? undefined;
        });
        stream.on("close", finish);
        if (timedOut || signal?.aborted) stop();
      });
    });
  }

  close(): void {
    this.client.end();
  }
}
