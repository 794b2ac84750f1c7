// Fetching a thread from a public-inbox server: a real HTTP server on 127.0.0.1 serves the fixture thread
// as lore does (/all/<message-id>/t.mbox.gz); the thread is cached, read back with the server gone, refused
// offline when it was never fetched, and its picked series applies with real `git am` on the fake tree.
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { InfraError, UsageError } from "../../harness/lib/errors.ts";
import { createExec } from "../../harness/lib/exec.ts";
import { git, gitOut } from "../../harness/lib/git.ts";
import { repoRoot } from "../../harness/lib/paths.ts";
import { fetchThread, normaliseMessageId } from "../../harness/stages/series/lore.ts";
import { pickSeries, splitMbox, toAmMbox } from "../../harness/stages/series/mbox.ts";

const threadText = readFileSync(join(repoRoot, "test/fixtures/mbox/thread-v1-v2.mbox"), "utf8");
const cover = "20260309100000.2000-1-dev@example.org";
const exec = createExec();

/** Every message-id of the fixture thread answers with the whole thread, as public-inbox does. */
function startArchive(): Promise<{ server: Server; base: string; requests: string[] }> {
  const ids = new Set(splitMbox(threadText).map((m) => m.messageId));
  const gz = gzipSync(threadText);
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? "");
    const m = /^\/all\/([^/]+)\/t\.mbox\.gz$/.exec(req.url ?? "");
    if (m && ids.has(decodeURIComponent(m[1]!))) {
      res.writeHead(200, { "content-type": "application/gzip" }).end(gz);
    } else {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    }
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve({ server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}/all`, requests })),
  );
}

const stop = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (e: Error) => e,
  );
}

let work: string;
let archive: Awaited<ReturnType<typeof startArchive>>;
beforeAll(async () => {
  archive = await startArchive();
});
afterAll(async () => {
  if (archive.server.listening) await stop(archive.server);
});
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), "wdh-lore-"));
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

describe("normaliseMessageId", () => {
  it.each([
    ["<20180511190641.23008-1-jean-philippe.brucker@arm.com>", "20180511190641.23008-1-jean-philippe.brucker@arm.com"],
    [" 20180511190641.23008-1-jean-philippe.brucker@arm.com ", "20180511190641.23008-1-jean-philippe.brucker@arm.com"],
    ["https://lore.kernel.org/all/20180511190641.23008-1-jean-philippe.brucker@arm.com/", "20180511190641.23008-1-jean-philippe.brucker@arm.com"],
    ["https://lore.kernel.org/linux-iommu/1533119953-2524-1-git-send-email-nek.in.cn@gmail.com/T/#u", "1533119953-2524-1-git-send-email-nek.in.cn@gmail.com"],
    ["https://lore.kernel.org/r/a%2Fb%40example.org", "a/b@example.org"],
    ["mid:x@y", "x@y"],
  ])("%s", (input, id) => expect(normaliseMessageId(input)).toBe(id));

  it("refuses what is not a message-id", () => {
    expect(() => normaliseMessageId("https://lore.kernel.org/all/")).toThrow(UsageError);
    expect(() => normaliseMessageId("two words")).toThrow(/"two words" is not a message-id/);
    expect(() => normaliseMessageId("<>")).toThrow(UsageError);
  });
});

describe("fetchThread from a public-inbox server", () => {
  it("fetches the gzipped thread of any of its messages, caches it, and reads the cache with the server gone", async () => {
    const cache = join(work, "cache");
    const first = await fetchThread(`<${cover}>`, { baseUrl: archive.base, cacheDir: cache });
    expect(first).toMatchObject({ messageId: cover, mbox: threadText, fromCache: false, url: `${archive.base}/${cover}/t.mbox.gz` });
    expect(first.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(first.file.startsWith(cache)).toBe(true);
    expect(readFileSync(first.file, "utf8")).toBe(threadText);
    expect(archive.requests).toContain(`/all/${cover}/t.mbox.gz`);

    await stop(archive.server);
    const again = await fetchThread(`https://lore.kernel.org/linux-demo/${cover}/T/#u`, { baseUrl: archive.base, cacheDir: cache });
    expect(again).toMatchObject({ fromCache: true, file: first.file, sha256: first.sha256, mbox: threadText });
    expect(await fetchThread(cover, { baseUrl: archive.base, cacheDir: cache, offline: true })).toMatchObject({ fromCache: true, sha256: first.sha256 });
    archive = await startArchive();
  });

  it("offline without a cached copy is a usage error that says what to do", async () => {
    const before = archive.requests.length;
    const e = await rejection(fetchThread(cover, { baseUrl: archive.base, cacheDir: join(work, "cache"), offline: true }));
    expect(archive.requests.length).toBe(before);
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toBe(`lore thread <${cover}> is not in the cache, and offline mode does not fetch`);
    expect((e as UsageError).details[0]).toMatch(/^run once without --offline to fetch http:\/\/127\.0\.0\.1:\d+\/all\//);
  });

  it("an unknown message-id is a usage error naming it and the URL; nothing is cached", async () => {
    const cache = join(work, "cache");
    const e = await rejection(fetchThread("nobody@example.org", { baseUrl: archive.base, cacheDir: cache }));
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toBe("lore has no thread with message-id <nobody@example.org>");
    expect((e as UsageError).details[0]).toBe(`GET ${archive.base}/nobody@example.org/t.mbox.gz answered 404 Not Found`);
    expect(existsSync(cache) ? readdirSync(cache) : []).toEqual([]);
    await expect(fetchThread("nobody@example.org", { baseUrl: archive.base, cacheDir: cache, offline: true })).rejects.toThrow(/is not in the cache/);
  });

  it("a server that cannot be reached is an infrastructure error with the URL", async () => {
    const closed = await startArchive();
    await stop(closed.server);
    const e = await rejection(fetchThread(cover, { baseUrl: closed.base, cacheDir: join(work, "cache") }));
    expect(e).toBeInstanceOf(InfraError);
    expect(e.message).toBe(`could not fetch lore thread <${cover}>: ECONNREFUSED`);
    expect((e as InfraError).details[0]).toBe(`GET ${closed.base}/${cover}/t.mbox.gz`);
  });

  it("an answer that is not an mbox (a captive portal, a proxy's page) is an infrastructure error and is not cached", async () => {
    const portal = createServer((_, res) => res.writeHead(200, { "content-type": "text/html" }).end("<html>sign in to the wifi</html>"));
    await new Promise<void>((resolve) => portal.listen(0, "127.0.0.1", resolve));
    const cache = join(work, "cache");
    try {
      const base = `http://127.0.0.1:${(portal.address() as AddressInfo).port}/all`;
      const e = await rejection(fetchThread(cover, { baseUrl: base, cacheDir: cache }));
      expect(e).toBeInstanceOf(InfraError);
      expect(e.message).toBe(`${base}/${cover}/t.mbox.gz did not answer with an mbox`);
      expect(existsSync(cache) ? readdirSync(cache) : []).toEqual([]);
    } finally {
      await stop(portal);
    }
  });

  it("the picked series of the fetched thread applies with git am", async () => {
    const thread = await fetchThread(cover, { baseUrl: archive.base, cacheDir: join(work, "cache") });
    const picked = pickSeries(splitMbox(thread.mbox));
    expect(picked.version).toBe(2);

    const tree = join(work, "tree");
    cpSync(join(repoRoot, "test/fixtures/fake-tree"), tree, { recursive: true });
    await git(exec, tree, ["init", "-q", "-b", "base"]);
    await git(exec, tree, ["add", "-A"]);
    await git(exec, tree, ["commit", "-q", "-m", "fake base"], { env: { GIT_AUTHOR_DATE: "2000-01-01T00:00:00Z" } });
    const base = await gitOut(exec, tree, ["rev-parse", "HEAD"]);
    const files = picked.patches.map((m, i) => {
      const file = join(work, `${String(i + 1).padStart(4, "0")}.patch`);
      writeFileSync(file, toAmMbox(m));
      return file;
    });
    await git(exec, tree, ["am", "-3", ...files]);

    expect((await gitOut(exec, tree, ["log", "--reverse", "--format=%s", `${base}..HEAD`])).split("\n")).toEqual([
      "demo: use two queues",
      "demo: add a queue count helper",
      "demo: log the queue count at probe",
    ]);
    expect(await gitOut(exec, tree, ["log", "-1", "--format=%an <%ae>"])).toBe("Dev One <dev@example.org>");
    expect(readFileSync(join(tree, "drivers/demo/demo-queue.h"), "utf8")).toContain("return n > 0 ? n : 1;"); // v2's helper
    expect(readFileSync(join(tree, "drivers/demo/demo.c"), "utf8")).toContain('pr_info("demo: %d queues\\n", demo_queue_count(demo_queues));'); // not the stray 3/3
  });
});
