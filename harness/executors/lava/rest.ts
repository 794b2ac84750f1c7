// A LAVA lab's REST API v0.2: submit a job, poll its state and health, read its log and test results,
// cancel it. The token comes from the environment or a config file, never from the command line, and
// appears in no message: errors name the method, the path and the status only.
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { InfraError, InterruptedError, UsageError } from "../../lib/errors.ts";

export interface LavaLab {
  /** https://lava.example.org (the API is under /api/v0.2/). */
  url: string;
  token: string;
}

export type LavaState = "Submitted" | "Scheduling" | "Scheduled" | "Running" | "Canceling" | "Finished";
export type LavaHealth = "Unknown" | "Complete" | "Incomplete" | "Canceled";

export interface LavaJobStatus {
  id: number;
  state: LavaState;
  health: LavaHealth;
  failure_comment?: string | null;
}

export interface LavaTestResult {
  suite: string;
  name: string;
  result: string;
  measurement?: number;
  unit?: string;
}

/**
 * The lab and its token: LAVA_URL + LAVA_TOKEN from the environment, else the file WDH_LAVA_CONFIG (or
 * ~/.config/warpdrive-harness/lava.yaml) with `url:` and `token:`, else lavacli's ~/.config/lavacli.yaml
 * (`default:` identity, `uri:` and `token:`).
 */
export function labFrom(env: Record<string, string | undefined>, home = homedir()): LavaLab {
  if (env.LAVA_URL && env.LAVA_TOKEN) return { url: env.LAVA_URL, token: env.LAVA_TOKEN };
  const own = env.WDH_LAVA_CONFIG ?? join(home, ".config", "warpdrive-harness", "lava.yaml");
  if (existsSync(own)) {
    const c = parse(readFileSync(own, "utf8")) as { url?: string; token?: string } | null;
    if (c?.url && c.token) return { url: env.LAVA_URL ?? c.url, token: c.token };
  }
  const lavacli = join(home, ".config", "lavacli.yaml");
  if (existsSync(lavacli)) {
    const c = (parse(readFileSync(lavacli, "utf8")) as Record<string, { uri?: string; token?: string }> | null)?.default;
    if (c?.uri && c.token) return { url: env.LAVA_URL ?? new URL(c.uri).origin, token: c.token };
  }
  throw new UsageError("no LAVA lab configured: set LAVA_URL and LAVA_TOKEN, or write url: and token: to ~/.config/warpdrive-harness/lava.yaml");
}

export interface LavaClientOptions {
  /** Per request. */
  timeoutMs?: number;
  /** Attempts for a GET that met a 5xx, a timeout or a network error. */
  attempts?: number;
  retryDelayMs?: number;
  signal?: AbortSignal;
}

export class LavaClient {
  private readonly base: string;
  constructor(
    private readonly lab: LavaLab,
    private readonly opts: LavaClientOptions = {},
  ) {
    this.base = `${lab.url.replace(/\/+$/, "")}/api/v0.2/`;
  }

  async submit(definition: string): Promise<number> {
    // Not retried on a 5xx: the lab may have queued the job before failing to answer.
    const body = (await this.request("POST", "jobs/", { definition }, 1)) as { job_ids?: number[] };
    const id = body.job_ids?.[0];
    if (typeof id !== "number") throw new InfraError("LAVA accepted the job but returned no job id");
    return id;
  }

  async status(id: number): Promise<LavaJobStatus> {
    return (await this.request("GET", `jobs/${id}/`)) as LavaJobStatus;
  }

  /** The job log from line `start` on (LAVA's YAML, one `- {dt, lvl, msg}` per line). */
  async logs(id: number, start = 0): Promise<string> {
    return (await this.request("GET", `jobs/${id}/logs/${start ? `?start=${start}` : ""}`, undefined, undefined, "text")) as string;
  }

  async tests(id: number): Promise<LavaTestResult[]> {
    const out: LavaTestResult[] = [];
    let path: string | null = `jobs/${id}/tests/?limit=500`;
    while (path) {
      const page = (await this.request("GET", path)) as { results?: LavaTestResult[]; next?: string | null } | LavaTestResult[];
      if (Array.isArray(page)) return page;
      out.push(...(page.results ?? []));
      path = page.next ? page.next.slice(page.next.indexOf("/api/v0.2/") + "/api/v0.2/".length) : null;
    }
    return out;
  }

  /** Sent also after Ctrl-C (that is when it is needed): the client's signal does not stop it. */
  async cancel(id: number): Promise<void> {
    await this.request("GET", `jobs/${id}/cancel/`, undefined, 2, "json", false);
  }

  private async request(
    method: "GET" | "POST",
    path: string,
    body?: unknown,
    attempts = this.opts.attempts ?? 3,
    as: "json" | "text" = "json",
    interruptible = true,
  ): Promise<unknown> {
    const what = `LAVA ${method} /api/v0.2/${path.replace(/\?.*$/, "")}`;
    const stop = interruptible ? this.opts.signal : undefined;
    let last: Error | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (stop?.aborted) throw new InterruptedError(`${what}: interrupted`);
      const timeout = AbortSignal.timeout(this.opts.timeoutMs ?? 30_000);
      const signal = stop ? AbortSignal.any([timeout, stop]) : timeout;
      let res: Response;
      try {
        res = await fetch(this.base + path, {
          method,
          headers: {
            Authorization: `Token ${this.lab.token}`,
            Accept: as === "json" ? "application/json" : "*/*",
            ...(body ? { "Content-Type": "application/json" } : {}),
          },
          body: body ? JSON.stringify(body) : undefined,
          signal,
        });
      } catch (e) {
        if (stop?.aborted) throw new InterruptedError(`${what}: interrupted`);
        const timedOut = timeout.aborted;
        last = new InfraError(
          `${what}: ${timedOut ? `no answer in ${(this.opts.timeoutMs ?? 30_000) / 1000} s` : `network error (${(e as Error).cause ?? (e as Error).message})`}`,
        );
        await this.pause(attempt, attempts);
        continue;
      }
      if (res.status === 401 || res.status === 403) {
        throw new UsageError(`${what}: ${res.status} ${res.statusText}: the lab refused the token (LAVA_TOKEN or the config file's token:)`);
      }
      if (res.status >= 500) {
        last = new InfraError(`${what}: ${res.status} ${res.statusText}`);
        await res.body?.cancel();
        await this.pause(attempt, attempts);
        continue;
      }
      if (!res.ok) {
        const text = (await res.text()).slice(0, 2000);
        throw new InfraError(`${what}: ${res.status} ${res.statusText}`, text ? [text] : []);
      }
      return as === "json" ? res.json() : res.text();
    }
    throw last ?? new InfraError(`${what}: failed`);
  }

  private async pause(attempt: number, attempts: number): Promise<void> {
    if (attempt < attempts) await new Promise((r) => setTimeout(r, (this.opts.retryDelayMs ?? 1000) * attempt));
  }
}

export interface WaitOptions {
  pollMs?: number;
  /** The whole job, from submission: queued time counts. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Each change of state (Submitted → Running → Finished), for the progress line. */
  onState?: (status: LavaJobStatus, elapsedMs: number) => void;
}

/**
 * Polls until the job finished. A timeout cancels the job and throws (infrastructure, exit 3); Ctrl-C
 * cancels it and throws InterruptedError. The health says how it ended; the caller reads the log.
 */
export async function waitForJob(client: LavaClient, id: number, opts: WaitOptions): Promise<LavaJobStatus> {
  const started = performance.now();
  let last = "";
  for (;;) {
    if (opts.signal?.aborted) {
      await client.cancel(id).catch(() => undefined);
      throw new InterruptedError(`LAVA job ${id} canceled (interrupted)`);
    }
    const status = await client.status(id);
    const elapsed = performance.now() - started;
    if (`${status.state}/${status.health}` !== last) {
      last = `${status.state}/${status.health}`;
      opts.onState?.(status, elapsed);
    }
    if (status.state === "Finished") return status;
    if (elapsed > opts.timeoutMs) {
      await client.cancel(id).catch(() => undefined);
      throw new InfraError(`LAVA job ${id} still ${status.state} after ${Math.round(opts.timeoutMs / 1000)} s: canceled`);
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, opts.pollMs ?? 5000);
      opts.signal?.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
    });
  }
}
