// The tree stage's Debian download path on real tools: linux-source-X of another suite fetched with
// apt-get download from a Debian mirror on 127.0.0.1 through a private apt configuration, dpkg-deb -x
// without root, the tarball committed as the managed base tree, the cache (no second download), and
// the series' base check against it.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UsageError } from "../../harness/lib/errors.ts";
import { createExec } from "../../harness/lib/exec.ts";
import { gitOut } from "../../harness/lib/git.ts";
import { repoRoot } from "../../harness/lib/paths.ts";
import type { Deps } from "../../harness/lib/stage.ts";
import { checkBase } from "../../harness/stages/series/base.ts";
import { prepareTree, type KernelTree, type TreeSpec } from "../../harness/stages/tree/tree.ts";
import type { FakeMirror } from "./fake-apt-mirror.ts";
import { fakeLinuxSourceMirror } from "./fake-deb-mirror.ts";

const exec = createExec();
const deps: Deps = { exec, signal: new AbortController().signal, progress: () => {} };
let work: string;
let mirror: FakeMirror;
let savedCache: string | undefined;
let spec: Extract<TreeSpec, { kind: "debian" }>;
const debRequests = () => mirror.requests.filter((r) => r.endsWith(".deb"));

beforeAll(async () => {
  savedCache = process.env.WDH_CACHE_DIR;
  work = mkdtempSync(join(tmpdir(), "wdh-tree-fetch-"));
  process.env.WDH_CACHE_DIR = join(work, "cache");
  mirror = await fakeLinuxSourceMirror(exec, join(repoRoot, "test/fixtures/fake-tree"), join(work, "mirror"), {
    name: "linux-source-9.9",
    version: "9.9.1-1",
    suite: "sid",
  });
  spec = {
    kind: "debian",
    package: "linux-source-9.9",
    version: "9.9.1-1",
    fetch: { version: "9.9.1-1", suite: "sid", mirror: mirror.url, keyring: undefined },
  };
});
afterAll(async () => {
  await mirror?.close();
  rmSync(work, { recursive: true, force: true });
  if (savedCache === undefined) delete process.env.WDH_CACHE_DIR;
  else process.env.WDH_CACHE_DIR = savedCache;
});

describe("a linux-source package downloaded from another suite", () => {
  let tree: KernelTree;

  it("is fetched with apt-get download through a private apt configuration and committed as the base tree", async () => {
    const r = await prepareTree(spec, deps);
    expect(r.status).toBe("pass");
    tree = r.output!;
    expect(tree.managed).toBe(true);
    expect(tree.description).toBe("debian linux-source-9.9 9.9.1-1");
    expect(tree.debian).toEqual({ package: "linux-source-9.9", version: "9.9.1-1" });
    expect(tree.path).toBe(join(work, "cache/trees/debian-linux-source-9.9-9.9.1-1"));
    expect(tree.kernelVersion).toBe("6.12.0"); // the fixture's Makefile
    expect(existsSync(join(tree.path, "drivers/demo/demo.c"))).toBe(true);
    expect(await gitOut(exec, tree.path, ["rev-parse", "HEAD"])).toBe(tree.baseCommit);
    expect(tree.state.dirty).toBeNull();
    expect(await gitOut(exec, tree.path, ["log", "--format=%s"])).toBe("linux-source-9.9 9.9.1-1");
    expect(debRequests()).toEqual(["/pool/main/l/linux-source-9.9/linux-source-9.9_9.9.1-1_all.deb"]);
    // the commands, for reproduce.sh: the private configuration (only our sources entry), then the download
    const [update, download, unpack, untar] = tree.fetchArgv;
    expect(update).toContain("Dir::Etc::sourcelist=/dev/null");
    expect(update!.at(-1)).toBe("update");
    expect(download!.slice(-2)).toEqual(["download", "linux-source-9.9=9.9.1-1"]);
    expect(unpack).toEqual(["dpkg-deb", "-x", "linux-source-9.9_9.9.1-1_all.deb", "deb-root"]);
    expect(untar!.slice(0, 3)).toEqual(["tar", "-xf", "deb-root/usr/src/linux-source-9.9.tar.xz"]);
    const sources = update!.find((a) => a.startsWith("Dir::Etc::sourceparts="))!.split("=")[1]!;
    expect(readFileSync(join(sources, "wdh.sources"), "utf8")).toContain(`Types: deb\nURIs: ${mirror.url}\nSuites: sid`);
    expect(existsSync(join(work, "cache/debs/linux-source/linux-source-9.9_9.9.1-1_all.deb"))).toBe(true);
  });

  it("is taken from the cache the next time: no request, the same base commit, the commands still known", async () => {
    const before = mirror.requests.length;
    const again = (await prepareTree(spec, deps)).output!;
    expect(mirror.requests.length).toBe(before);
    expect(again.baseCommit).toBe(tree.baseCommit);
    expect(again.fetchArgv).toEqual(tree.fetchArgv);
  });

  it("extracted again from the cached .deb when the tree is gone, to the same commit (no second download)", async () => {
    rmSync(tree.path, { recursive: true, force: true });
    const again = (await prepareTree(spec, deps)).output!;
    expect(again.baseCommit).toBe(tree.baseCommit);
    expect(debRequests()).toHaveLength(1);
  });

  it("matches a series based on that package (and version), and nothing else", async () => {
    expect((await checkBase("debian linux-source-9.9", tree, deps)).matches).toBe(true);
    expect((await checkBase("debian linux-source-9.9 9.9.1-1", tree, deps)).matches).toBe(true);
    expect((await checkBase("debian linux-source-9.9 9.9.1-2", tree, deps)).matches).toBe(false);
    expect((await checkBase("debian linux-source-6.12", tree, deps)).matches).toBe(false);
  });

  it("a version the suite does not have is the user's error, naming mirror, suite and version", async () => {
    const missing = { ...spec, version: "9.9.2-1", fetch: { ...spec.fetch!, version: "9.9.2-1" } };
    await expect(prepareTree(missing, deps)).rejects.toThrow(UsageError);
    await expect(prepareTree(missing, deps)).rejects.toThrow(/has no package linux-source-9\.9 9\.9\.2-1/);
    expect(existsSync(join(work, "cache/trees/debian-linux-source-9.9-9.9.2-1"))).toBe(false);
  });
});
