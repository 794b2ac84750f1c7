// --kcidb-submit URL: POST the run's kcidb.json to a KCIDB REST endpoint (e.g. https://db.kernelci.org/submit)
// with the token from WDH_KCIDB_TOKEN (or KCIDB_TOKEN) as a Bearer header. The token never comes from the
// command line and appears in no message; a URL with credentials in it is refused for the same reason.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { exitCodeFor, InfraError, UsageError } from "../../lib/errors.ts";
import type { KcidbDocument } from "./kcidb.ts";

export function kcidbToken(env: Record<string, string | undefined>): string {
  const token = env.WDH_KCIDB_TOKEN || env.KCIDB_TOKEN;
  if (!token) throw new UsageError("--kcidb-submit needs a token in WDH_KCIDB_TOKEN (or KCIDB_TOKEN)");
  return token;
}

export async function submitKcidb(url: string, doc: KcidbDocument, token: string, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<string> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new UsageError(`--kcidb-submit ${url}: not a URL`);
  }
  if (target.username || target.password) throw new UsageError("--kcidb-submit: put the token in WDH_KCIDB_TOKEN, not in the URL");
  const where = `${target.origin}${target.pathname}`;
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? 60_000);
  let res: Response;
  try {
    res = await fetch(target, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify(doc),
      signal: opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout,
    });
  } catch (e) {
    throw new InfraError(`KCIDB ${where}: ${timeout.aborted ? "no answer" : `network error (${(e as Error).cause ?? (e as Error).message})`}`);
  }
  const text = (await res.text()).slice(0, 2000).split(token).join("<token>");
  if (res.status === 401 || res.status === 403) throw new UsageError(`KCIDB ${where}: ${res.status}: the token was refused (WDH_KCIDB_TOKEN)`);
  if (!res.ok) throw new InfraError(`KCIDB ${where}: ${res.status} ${res.statusText}`, text ? [text] : []);
  return `kcidb.json submitted to ${where} (${doc.tests.length} tests): ${res.status}${text ? ` ${text.trim().split("\n")[0]}` : ""}`;
}

/**
 * The command's exit code once the submission is done: a submission that failed turns a passing run into
 * its own failure (3 for a server down, 2 for a refused or missing token), and never hides a failed run's
 * code behind its own (the verdict says what happened to the kernel; that is what CI must see).
 */
export function exitAfterSubmission(runExitCode: number, submitted: { exitCode?: number }): number {
  return runExitCode === 0 && submitted.exitCode ? submitted.exitCode : runExitCode;
}

/** Submits a run folder's kcidb.json; a failure is a line and an exit code, never a lost verdict. */
export async function submitRunKcidb(
  runDir: string,
  url: string,
  env: Record<string, string | undefined>,
  signal?: AbortSignal,
): Promise<{ line: string; exitCode?: number }> {
  try {
    const doc = JSON.parse(readFileSync(join(runDir, "kcidb.json"), "utf8")) as KcidbDocument;
    return { line: await submitKcidb(url, doc, kcidbToken(env), { signal }) };
  } catch (e) {
    return { line: `kcidb.json not submitted: ${e instanceof Error ? e.message : String(e)}`, exitCode: exitCodeFor(e) };
  }
}
