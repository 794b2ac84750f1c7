import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { InfraError, UsageError } from "../../lib/errors.ts";
import { repoRoot } from "../../lib/paths.ts";
import { kcidbForRunFolder } from "./kcidb.ts";
import { kcidbToken, submitKcidb } from "./kcidb-submit.ts";

const TOKEN = "kcidb-t0ken-do-not-leak";
const doc = kcidbForRunFolder(join(repoRoot, "test/fixtures/kcidb/pass-warpdrive"), { origin: "warpdrive" });
const servers: Server[] = [];
afterEach(() => servers.splice(0).forEach((s) => s.close()));

function kcidbServer(status = 200) {
  const got: { auth?: string; body: string; url?: string }[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      got.push({ auth: req.headers.authorization, body, url: req.url });
      res.writeHead(req.headers.authorization === `Bearer ${TOKEN}` ? status : 401, { "Content-Type": "text/plain" });
      res.end(status === 500 ? `boom ${TOKEN}` : "OK, submission id 7");
    });
  });
  servers.push(server);
  return new Promise<{ url: string; got: typeof got }>((r) =>
    server.listen(0, "127.0.0.1", () => r({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/submit`, got })),
  );
}

describe("--kcidb-submit", () => {
  it("POSTs kcidb.json with the token as a Bearer header, and says what the server answered", async () => {
    const s = await kcidbServer();
    const line = await submitKcidb(s.url, doc, TOKEN);
    expect(s.got[0]!.auth).toBe(`Bearer ${TOKEN}`);
    expect(JSON.parse(s.got[0]!.body)).toEqual(doc);
    expect(line).toMatch(/submitted to http:\/\/127\.0\.0\.1:\d+\/submit .*200 OK, submission id 7/);
    expect(line).not.toContain(TOKEN);
  });
  it("a refused token is the user's to fix; a server error is infrastructure, and neither message holds the token", async () => {
    const s = await kcidbServer();
    await expect(submitKcidb(s.url, doc, "wrong")).rejects.toThrow(UsageError);
    const broken = await kcidbServer(500);
    const e = (await submitKcidb(broken.url, doc, TOKEN).catch((x: unknown) => x)) as InfraError;
    expect(e).toBeInstanceOf(InfraError);
    expect(JSON.stringify([e.message, e.details])).not.toContain(TOKEN);
    await expect(submitKcidb("http://127.0.0.1:9/submit", doc, TOKEN)).rejects.toThrow(/network error/);
  });
  it("the token only from the environment; never in the URL", async () => {
    expect(() => kcidbToken({})).toThrow(/WDH_KCIDB_TOKEN/);
    expect(kcidbToken({ KCIDB_TOKEN: "x" })).toBe("x");
    await expect(submitKcidb(`https://${TOKEN}@db.example.org/submit`, doc, TOKEN)).rejects.toThrow(/not in the URL/);
  });
});

describe("submitRunKcidb", () => {
  it("a failed submission is a line and an exit code (3 for a server down, 2 without a token)", async () => {
    const dir = join(repoRoot, "test/fixtures/kcidb/pass-warpdrive");
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const run = mkdtempSync(join(tmpdir(), "kcidb-run-"));
    writeFileSync(join(run, "kcidb.json"), JSON.stringify(kcidbForRunFolder(dir, { origin: "warpdrive" })));
    const { submitRunKcidb } = await import("./kcidb-submit.ts");
    expect(await submitRunKcidb(run, "http://127.0.0.1:9/submit", { WDH_KCIDB_TOKEN: TOKEN })).toMatchObject({ exitCode: 3 });
    expect(await submitRunKcidb(run, "http://127.0.0.1:9/submit", {})).toMatchObject({ exitCode: 2 });
    const s = await kcidbServer();
    expect((await submitRunKcidb(run, s.url, { WDH_KCIDB_TOKEN: TOKEN })).exitCode).toBeUndefined();
  });
});

describe("the command's exit code after a submission", () => {
  it("a failed submission fails a passing run with its own code, and never replaces a failed run's", async () => {
    const { exitAfterSubmission } = await import("./kcidb-submit.ts");
    expect(exitAfterSubmission(0, {})).toBe(0);
    expect(exitAfterSubmission(0, { exitCode: 3 })).toBe(3); // server down: CI must not see a green run
    expect(exitAfterSubmission(0, { exitCode: 2 })).toBe(2); // token refused or missing
    expect(exitAfterSubmission(1, { exitCode: 3 })).toBe(1); // the kernel's regression is what the run says
    expect(exitAfterSubmission(130, { exitCode: 3 })).toBe(130);
  });
});
