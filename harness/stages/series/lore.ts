// A thread from a public-inbox archive (lore.kernel.org): GET <base>/<message-id>/t.mbox.gz, kept in the
// cache by message-id. A cached thread is never fetched again, so a job that worked once works offline
// and gives the same patches; to see newer replies, delete the cached file (its path is in the result).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { writeFileAtomically } from "../../lib/atomic.ts";
import { InfraError, InterruptedError, UsageError } from "../../lib/errors.ts";
import { cacheDir, pathSafe, sha256, shortHash } from "../../lib/paths.ts";

export interface LoreFetchOptions {
  /** A public-inbox URL that takes /<message-id>/t.mbox.gz; default https://lore.kernel.org/all. */
  baseUrl?: string;
  /** Never fetch: only a cached thread will do. */
  offline?: boolean;
  signal?: AbortSignal;
  /** Default cacheDir("lore"). */
  cacheDir?: string;
  /** Give up on the server after this long; default 60 s. */
  timeoutMs?: number;
}

export interface FetchedThread {
  messageId: string;
  /** The thread as mbox text (decompressed). */
  mbox: string;
  /** Where it is cached. */
  file: string;
  fromCache: boolean;
  url: string;
  sha256: string;
}

export const defaultLoreUrl = "https://lore.kernel.org/all";

/** The thread's mbox URL as lore writes its own links: the message-id escaped, but its '@' kept. */
export function loreThreadUrl(base: string, messageId: string): string {
  return `${base.replace(/\/+$/, "")}/${encodeURIComponent(messageId).replace(/%40/g, "@")}/t.mbox.gz`;
}

/** "<id>", "id", "mid:id" or an archive URL ("https://lore.kernel.org/linux-iommu/<id>/T/#u") -> "id". */
export function normaliseMessageId(input: string): string {
  let id = input.trim();
  if (/^https?:\/\//i.test(id)) {
    let url: URL;
    try {
      url = new URL(id);
    } catch {
      throw new UsageError(`"${input}" is not a URL nor a message-id`);
    }
    // Archive URLs put the message-id in one path segment; it is the one with an '@' in it.
    const segment = url.pathname
      .split("/")
      .map(safeDecode)
      .find((s) => s.includes("@"));
    if (!segment) throw new UsageError(`no message-id in ${input}`, ["expected a URL like https://lore.kernel.org/all/<message-id>/"]);
    id = segment;
  }
  id = id
    .replace(/^(mid|id):/i, "")
    .replace(/^<(.*)>$/, "$1")
    .trim();
  if (id === "" || /[\s<>]/.test(id))
    throw new UsageError(`"${input}" is not a message-id`, ["a message-id looks like 20180511190641.23008-1-jean-philippe.brucker@arm.com"]);
  return id;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export async function fetchThread(messageId: string, options: LoreFetchOptions = {}): Promise<FetchedThread> {
  const id = normaliseMessageId(messageId);
  const base = (options.baseUrl ?? defaultLoreUrl).replace(/\/+$/, "");
  const url = loreThreadUrl(base, id);
  // Readable for a person looking in the cache, unique through the hash.
  const file = join(options.cacheDir ?? cacheDir("lore"), `${pathSafe(id).slice(0, 80)}-${shortHash(id)}.mbox`);

  if (existsSync(file)) {
    const mbox = readFileSync(file, "utf8");
    return { messageId: id, mbox, file, fromCache: true, url, sha256: sha256(mbox) };
  }
  if (options.offline) {
    throw new UsageError(`lore thread <${id}> is not in the cache, and offline mode does not fetch`, [
      `run once without --offline to fetch ${url} (it is cached for later runs)`,
      `or save the thread yourself as ${file}`,
    ]);
  }

  const mbox = await download(url, id, options);
  writeFileAtomically(file, mbox);
  return { messageId: id, mbox, file, fromCache: false, url, sha256: sha256(mbox) };
}

async function download(url: string, id: string, options: LoreFetchOptions): Promise<string> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const signals = [AbortSignal.timeout(timeoutMs), ...(options.signal ? [options.signal] : [])];
  let response: Response;
  let body: Buffer;
  try {
    response = await fetch(url, { signal: AbortSignal.any(signals), headers: { "user-agent": "warpdrive-harness" } });
    body = Buffer.from(await response.arrayBuffer());
  } catch (error) {
    if (options.signal?.aborted) throw new InterruptedError(`fetching ${url} was interrupted`);
    const why = error instanceof Error && error.name === "TimeoutError" ? `no answer within ${timeoutMs / 1000} s` : describeFetchError(error);
    throw new InfraError(`could not fetch lore thread <${id}>: ${why}`, [`GET ${url}`, "check the network, or run with --offline once the thread is cached"]);
  }
  if (response.status === 404) {
    throw new UsageError(`lore has no thread with message-id <${id}>`, [
      `GET ${url} answered 404 Not Found`,
      "check the message-id; any message of the thread will do",
    ]);
  }
  if (!response.ok) throw new InfraError(`could not fetch lore thread <${id}>: HTTP ${response.status} ${response.statusText}`, [`GET ${url}`]);

  // t.mbox.gz is served as application/gzip; a proxy that already undid a Content-Encoding gives plain text.
  const text = body[0] === 0x1f && body[1] === 0x8b ? gunzip(body, url) : body.toString("utf8");
  if (!text.startsWith("From ")) throw new InfraError(`${url} did not answer with an mbox`, [`it starts: ${JSON.stringify(text.slice(0, 80))}`]);
  return text;
}

function gunzip(body: Buffer, url: string): string {
  try {
    return gunzipSync(body).toString("utf8");
  } catch (error) {
    throw new InfraError(`${url}: the gzip data is damaged (${(error as Error).message})`);
  }
}

/** fetch() hides the reason in error.cause (ECONNREFUSED, ENOTFOUND...). */
function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}
