import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { InfraError, InterruptedError, UsageError } from "../../lib/errors.ts";
import { repoRoot } from "../../lib/paths.ts";
import { LavaClient, labFrom, waitForJob, type LavaJobStatus } from "./rest.ts";
import { parseLavaLog } from "./log.ts";

const TOKEN = "s3cr3t-lab-token-0123456789";
const logFixture = readFileSync(join(repoRoot, "test/fixtures/lava/lava-run-baseline-pass.log"), "utf8");
// A lab serves the log as a YAML list: "- {dt: ..., lvl: ..., msg: ...}" per line.
const labLog =
  logFixture
    .split("\n")
    .filter(Boolean)
    .map((l) => `- ${l}`)
    .join("\n") + "\n";

type Script = { states: [LavaJobStatus["state"], LavaJobStatus["health"]][]; failFirst?: number; hang?: boolean; status?: number };

/** A lab: jobs go through the scripted states, one per poll; requests and their headers are recorded. */
function fakeLab(script: Script) {
  const seen: { method: string; url: string; auth?: string; body: string }[] = [];
  let polls = 0;
  let failures = 0;
  let canceled = false;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      seen.push({ method: req.method!, url: req.url!, auth: req.headers.authorization, body });
      const json = (code: number, v: unknown) => (res.writeHead(code, { "Content-Type": "application/json" }), res.end(JSON.stringify(v)));
      if (script.hang) return; // never answers
      if (script.status) return json(script.status, { detail: "nope" });
      if (req.headers.authorization !== `Token ${TOKEN}`) return json(401, { detail: "Invalid token." });
      if (script.failFirst && failures < script.failFirst) {
        failures++;
        return json(502, { detail: "bad gateway" });
      }
      const url = req.url!;
      if (req.method === "POST" && url === "/api/v0.2/jobs/") return json(201, { message: "job(s) successfully submitted", job_ids: [4242] });
      if (url === "/api/v0.2/jobs/4242/cancel/") {
        canceled = true;
        return json(200, { message: "Job cancel signal sent." });
      }
      if (url === "/api/v0.2/jobs/4242/") {
        const [state, health] = canceled ? (["Finished", "Canceled"] as const) : script.states[Math.min(polls++, script.states.length - 1)]!;
        return json(200, { id: 4242, state, health, failure_comment: health === "Incomplete" ? "lava-test-shell timed out" : null });
      }
      if (url.startsWith("/api/v0.2/jobs/4242/logs/")) return (res.writeHead(200, { "Content-Type": "application/yaml" }), res.end(labLog));
      if (url.startsWith("/api/v0.2/jobs/4242/tests/")) {
        return json(200, { count: 1, next: null, previous: null, results: [{ suite: "0_baseline", name: "smmu-probed", result: "pass" }] });
      }
      json(404, { detail: "Not found." });
    });
  });
  return new Promise<{ url: string; seen: typeof seen; server: Server; canceled: () => boolean }>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server, canceled: () => canceled })),
  );
}

const servers: Server[] = [];
afterEach(() => servers.splice(0).forEach((s) => (s.closeAllConnections(), s.close())));
async function lab(script: Script) {
  const l = await fakeLab(script);
  servers.push(l.server);
  return l;
}
const fast = { retryDelayMs: 5, timeoutMs: 2000 };

describe("LAVA REST client (API v0.2) against a lab on 127.0.0.1", () => {
  it("queued → running → finished complete: submit, poll, log and results; the token only in the header", async () => {
    const l = await lab({
      states: [
        ["Submitted", "Unknown"],
        ["Scheduled", "Unknown"],
        ["Running", "Unknown"],
        ["Finished", "Complete"],
      ],
    });
    const client = new LavaClient({ url: l.url, token: TOKEN }, fast);
    const id = await client.submit("device_type: qemu\n");
    expect(id).toBe(4242);
    expect(JSON.parse(l.seen[0]!.body)).toEqual({ definition: "device_type: qemu\n" });
    const states: string[] = [];
    const end = await waitForJob(client, id, { pollMs: 1, timeoutMs: 5000, onState: (s) => states.push(s.state) });
    expect(end).toMatchObject({ state: "Finished", health: "Complete" });
    expect(states).toEqual(["Submitted", "Scheduled", "Running", "Finished"]);
    const log = parseLavaLog(await client.logs(id));
    expect(log.job).toBe("pass");
    expect(log.cases.find((c) => c.case === "aes-cbc-kat")?.result).toBe("pass");
    expect(await client.tests(id)).toEqual([{ suite: "0_baseline", name: "smmu-probed", result: "pass" }]);
    expect(l.seen.every((r) => r.auth === `Token ${TOKEN}` && !r.url.includes(TOKEN) && !r.body.includes(TOKEN))).toBe(true);
  });

  it("an incomplete job comes back finished with health Incomplete and LAVA's comment", async () => {
    const l = await lab({
      states: [
        ["Running", "Unknown"],
        ["Finished", "Incomplete"],
      ],
    });
    const end = await waitForJob(new LavaClient({ url: l.url, token: TOKEN }, fast), 4242, { pollMs: 1, timeoutMs: 5000 });
    expect(end).toMatchObject({ health: "Incomplete", failure_comment: "lava-test-shell timed out" });
  });

  it("a job canceled on the lab comes back with health Canceled", async () => {
    const l = await lab({
      states: [
        ["Running", "Unknown"],
        ["Canceling", "Unknown"],
        ["Finished", "Canceled"],
      ],
    });
    expect(await waitForJob(new LavaClient({ url: l.url, token: TOKEN }, fast), 4242, { pollMs: 1, timeoutMs: 5000 })).toMatchObject({ health: "Canceled" });
  });

  it("a job that outlives the timeout is canceled, and that is infrastructure", async () => {
    const l = await lab({ states: [["Submitted", "Unknown"]] });
    const wait = waitForJob(new LavaClient({ url: l.url, token: TOKEN }, fast), 4242, { pollMs: 5, timeoutMs: 50 });
    await expect(wait).rejects.toThrow(InfraError);
    await expect(wait).rejects.toThrow(/still Submitted after 0 s: canceled/);
    expect(l.canceled()).toBe(true);
  });

  it("Ctrl-C cancels the job", async () => {
    const l = await lab({ states: [["Running", "Unknown"]] });
    const controller = new AbortController();
    const wait = waitForJob(new LavaClient({ url: l.url, token: TOKEN }, fast), 4242, { pollMs: 20, timeoutMs: 60_000, signal: controller.signal });
    setTimeout(() => controller.abort(), 60);
    await expect(wait).rejects.toThrow(InterruptedError);
    expect(l.canceled()).toBe(true);
  });

  it("401: a usage error naming where the token comes from, never the token", async () => {
    const l = await lab({ states: [["Finished", "Complete"]] });
    const e = await new LavaClient({ url: l.url, token: "wrong-token" }, fast).submit("x").catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UsageError);
    expect(String((e as Error).message)).toMatch(/401 .*refused the token/);
    expect(String((e as Error).message)).not.toContain("wrong-token");
  });

  it("5xx: GETs are retried, then infrastructure; a submit is not retried", async () => {
    const flaky = await lab({ states: [["Finished", "Complete"]], failFirst: 2 });
    expect((await new LavaClient({ url: flaky.url, token: TOKEN }, fast).status(4242)).state).toBe("Finished");
    const down = await lab({ states: [["Finished", "Complete"]], status: 503 });
    await expect(new LavaClient({ url: down.url, token: TOKEN }, fast).status(4242)).rejects.toThrow(/503/);
    expect(down.seen.length).toBe(3);
    const before = down.seen.length;
    await expect(new LavaClient({ url: down.url, token: TOKEN }, fast).submit("x")).rejects.toThrow(InfraError);
    expect(down.seen.length - before).toBe(1);
  });

  it("a lab that does not answer: a timeout per request, infrastructure", async () => {
    const l = await lab({ states: [], hang: true });
    const e = await new LavaClient({ url: l.url, token: TOKEN }, { timeoutMs: 100, attempts: 2, retryDelayMs: 1 }).status(4242).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InfraError);
    expect((e as Error).message).toMatch(/no answer in 0.1 s/);
  });

  it("a lab that is not there: a network error, infrastructure", async () => {
    await expect(new LavaClient({ url: "http://127.0.0.1:9", token: TOKEN }, { ...fast, attempts: 1 }).status(1)).rejects.toThrow(/network error/);
  });

  it("the lab and token from the environment, our config file, or lavacli's", () => {
    const home = mkdtempSync(join(tmpdir(), "lava-home-"));
    expect(labFrom({ LAVA_URL: "https://lab", LAVA_TOKEN: "t" }, home)).toEqual({ url: "https://lab", token: "t" });
    expect(() => labFrom({}, home)).toThrow(UsageError);
    mkdirSync(join(home, ".config"), { recursive: true });
    writeFileSync(join(home, ".config", "lavacli.yaml"), "default:\n  uri: https://lava.example.org/RPC2\n  token: abc\n  username: me\n");
    expect(labFrom({}, home)).toEqual({ url: "https://lava.example.org", token: "abc" });
    mkdirSync(join(home, ".config", "warpdrive-harness"));
    writeFileSync(join(home, ".config", "warpdrive-harness", "lava.yaml"), "url: https://own\ntoken: xyz\n");
    expect(labFrom({}, home)).toEqual({ url: "https://own", token: "xyz" });
  });
});
