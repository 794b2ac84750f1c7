// Series sources on real git: a quilt series file, a git range of another repository, series on series,
// the base check, and a kernel tree fetched shallow from a git url (a local bare repository over file://).
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { gzipSync } from "node:zlib";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadSeries, readQuiltSeries, resolveJob, seriesInOrder } from "../../harness/config/resolve.ts";
import { kernelMakeArgs } from "../../harness/stages/build/make.ts";
import { createExec } from "../../harness/lib/exec.ts";
import { git, gitOut, treeState } from "../../harness/lib/git.ts";
import { repoRoot } from "../../harness/lib/paths.ts";
import type { Deps } from "../../harness/lib/stage.ts";
import { checkBase, versionOfTag } from "../../harness/stages/series/base.ts";
import { applySeries } from "../../harness/stages/series/series.ts";
import { materializeSeries } from "../../harness/stages/series/sources.ts";
import { defaultLoreUrl, loreThreadUrl } from "../../harness/stages/series/lore.ts";
import { prepareTree, type KernelTree } from "../../harness/stages/tree/tree.ts";

const exec = createExec();
const deps: Deps = { exec, signal: new AbortController().signal, progress: () => {} };
const demoGood = join(repoRoot, "test/fixtures/series/demo-good");
const sourceOptions = { loreUrl: "http://127.0.0.1:9/all", offline: true };
let work: string;
let savedCache: string | undefined;

beforeAll(() => {
  savedCache = process.env.WDH_CACHE_DIR;
});
afterAll(() => {
  if (savedCache === undefined) delete process.env.WDH_CACHE_DIR;
  else process.env.WDH_CACHE_DIR = savedCache;
});
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), "wdh-sources-"));
  process.env.WDH_CACHE_DIR = join(work, "cache");
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

async function fakeTree(dir: string): Promise<string> {
  cpSync(join(repoRoot, "test/fixtures/fake-tree"), dir, { recursive: true });
  await git(exec, dir, ["init", "-q", "-b", "main"]);
  await git(exec, dir, ["add", "-A"]);
  await git(exec, dir, ["commit", "-q", "-m", "fake base"], { env: { GIT_AUTHOR_DATE: "2000-01-01T00:00:00Z" } });
  return gitOut(exec, dir, ["rev-parse", "HEAD"]);
}

function writeManifest(dir: string, yaml: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "series.yaml"), yaml);
  return dir;
}

const apply = (treeDir: string, baseCommit: string, patches: Awaited<ReturnType<typeof materializeSeries>>["patches"]) =>
  applySeries({ treeDir, managed: true, baseCommit, patches, logFile: join(work, "series.log") }, deps);

describe("series sources", () => {
  it("a quilt series file: order from the file, comments and -p1 allowed, other -p refused", async () => {
    const dir = join(work, "quilt");
    mkdirSync(dir);
    for (const f of ["0001-demo-use-two-queues.patch", "0002-demo-log-the-queue-count-at-probe.patch"]) cpSync(join(demoGood, f), join(dir, f));
    writeFileSync(join(dir, "series"), "# the demo series\n0001-demo-use-two-queues.patch -p1\n\n0002-demo-log-the-queue-count-at-probe.patch # second\n");
    writeManifest(dir, "name: quilt-demo\nbase: v6.12\nsource: { quilt: series }\ncount: 2\n");
    const spec = loadSeries(dir);
    const m = await materializeSeries(spec, sourceOptions, deps);
    expect(m.patches.map((p) => p.file.split("/").pop())).toEqual(["0001-demo-use-two-queues.patch", "0002-demo-log-the-queue-count-at-probe.patch"]);

    const tree = join(work, "tree");
    const base = await fakeTree(tree);
    const r = await apply(tree, base, m.patches);
    expect(r.status).toBe("pass");
    expect(r.output!.patches.map((p) => p.provenance)).toEqual(m.patches.map((p) => ({ kind: "file", file: p.file })));

    writeFileSync(join(dir, "series"), "0001-demo-use-two-queues.patch -p0\n");
    expect(() => readQuiltSeries(join(dir, "series"))).toThrow(/series:1: 0001-demo-use-two-queues.patch asks for -p0; only -p1/);
  });

  it("a manifest whose count disagrees with its source is refused", async () => {
    const dir = writeManifest(join(work, "counted"), "name: counted\nbase: v6.12\npatches: [0001-demo-use-two-queues.patch]\ncount: 3\n");
    cpSync(join(demoGood, "0001-demo-use-two-queues.patch"), join(dir, "0001-demo-use-two-queues.patch"));
    await expect(materializeSeries(loadSeries(dir), sourceOptions, deps)).rejects.toThrow(/gives 1 patches, its manifest says 3/);
  });

  it("a git range of another repository: format-patch output, provenance = the source commits", async () => {
    const dev = join(work, "dev");
    const devBase = await fakeTree(dev);
    for (const f of ["0001-demo-use-two-queues.patch", "0002-demo-log-the-queue-count-at-probe.patch"]) {
      await git(exec, dev, ["am", "-q", join(demoGood, f)]);
    }
    await git(exec, dev, ["tag", "wd-tip"]);
    const sourceCommits = (await gitOut(exec, dev, ["rev-list", "--reverse", `${devBase}..wd-tip`])).split("\n");
    const dir = writeManifest(join(work, "ranged"), `name: ranged\nbase: v6.12\nsource: { git: ${dev}, range: "${devBase}..wd-tip" }\n`);
    const m = await materializeSeries(loadSeries(dir), sourceOptions, deps);
    expect(m.patches.map((p) => p.provenance)).toEqual(sourceCommits.map((commit) => ({ kind: "git", repo: dev, commit })));

    const tree = join(work, "tree");
    const base = await fakeTree(tree);
    const r = await apply(tree, base, m.patches);
    expect(r.status).toBe("pass");
    expect(readFileSync(join(tree, "drivers/demo/demo.c"), "utf8")).toBe(readFileSync(join(dev, "drivers/demo/demo.c"), "utf8"));
    // The same range again reuses the same files (and so the applied series).
    const again = await materializeSeries(loadSeries(dir), sourceOptions, deps);
    expect(again.patches.map((p) => p.file)).toEqual(m.patches.map((p) => p.file));

    const bad = writeManifest(join(work, "bad-range"), `name: bad-range\nbase: v6.12\nsource: { git: ${dev}, range: "${devBase}..no-such-branch" }\n`);
    await expect(materializeSeries(loadSeries(bad), sourceOptions, deps)).rejects.toThrow(/no-such-branch is not a commit of/);
  });

  it("an mbox thread: the newest complete version, replies skipped, provenance per mail, applied with git am", async () => {
    const mbox = join(repoRoot, "test/fixtures/mbox/thread-v1-v2.mbox");
    const dir = writeManifest(join(work, "from-mbox"), `name: from-mbox\nbase: v6.12\nsource: { mbox: ${mbox} }\ncount: 3\n`);
    const m = await materializeSeries(loadSeries(dir), sourceOptions, deps);
    expect(m.source).toBe(`mbox ${mbox} v2 (3 patches)`);
    expect(m.cover?.subject).toBe("[PATCH v2 0/3] demo: two queues");
    expect(m.patches.map((p) => p.provenance.kind === "mbox" && p.provenance.part)).toEqual(["v2 1/3", "v2 2/3", "v2 3/3"]);
    const tree = join(work, "tree");
    const base = await fakeTree(tree);
    const r = await apply(tree, base, m.patches);
    expect(r.status).toBe("pass");
    expect(r.output!.patches.map((p) => p.subject)).toEqual(["demo: use two queues", "demo: add a queue count helper", "demo: log the queue count at probe"]);

    // version 1 on request, from the same thread
    const v1 = writeManifest(join(work, "from-mbox-v1"), `name: from-mbox-v1\nbase: v6.12\nsource: { mbox: ${mbox}, version: 1 }\n`);
    expect((await materializeSeries(loadSeries(v1), sourceOptions, deps)).source).toBe(`mbox ${mbox} v1 (3 patches)`);
    const missing = writeManifest(
      join(work, "missing"),
      `name: missing\nbase: v6.12\nsource: { mbox: ${join(repoRoot, "test/fixtures/mbox/missing-part.mbox")}, version: 2 }\n`,
    );
    await expect(materializeSeries(loadSeries(missing), sourceOptions, deps)).rejects.toThrow(/v2 is missing 2\/3/);
  });

  it("a lore thread through the series stage: fetched from the archive once, then from the cache with the archive gone", async () => {
    const thread = readFileSync(join(repoRoot, "test/fixtures/mbox/thread-v1-v2.mbox"));
    const requests: string[] = [];
    const server = createServer((req, res) => {
      requests.push(req.url ?? "");
      if (req.url === "/all/20260302100000.1000-1-dev@example.org/t.mbox.gz") {
        res.writeHead(200, { "content-type": "application/gzip" }).end(gzipSync(thread));
      } else res.writeHead(404).end();
    });
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    const loreUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/all`;
    const dir = writeManifest(join(work, "from-lore"), 'name: from-lore\nbase: v6.12\nsource: { lore: "<20260302100000.1000-1-dev@example.org>" }\ncount: 3\n');
    try {
      const m = await materializeSeries(loadSeries(dir), { loreUrl, offline: false }, deps);
      expect(m.source).toBe("lore 20260302100000.1000-1-dev@example.org v2 (3 patches)");
      expect(m.patches[0]!.provenance).toMatchObject({ kind: "lore", part: "v2 1/3", fromCache: false, url: expect.stringContaining(loreUrl) });
    } finally {
      await new Promise((ok) => server.close(ok));
    }
    const again = await materializeSeries(loadSeries(dir), { loreUrl, offline: true }, deps);
    expect(again.source).toBe("lore 20260302100000.1000-1-dev@example.org (cached) v2 (3 patches)");
    expect(requests).toHaveLength(1);
    const tree = join(work, "tree");
    expect((await apply(tree, await fakeTree(tree), again.patches)).status).toBe("pass");
    process.env.WDH_CACHE_DIR = join(work, "empty-cache");
    await expect(materializeSeries(loadSeries(dir), { loreUrl, offline: true }, deps)).rejects.toThrow(/offline/i);
  });

  it("a patatt-signed mail: the attestation is verified against the keyring and recorded with the patch", async () => {
    const signed = readFileSync(join(repoRoot, "test/fixtures/mbox/patatt-signed.mbox"), "utf8");
    const first = signed.split(/\n(?=From [^\n]*\d{4}\n)/)[0]!;
    const dir = join(work, "signed");
    mkdirSync(dir);
    writeFileSync(join(dir, "one.mbox"), first.endsWith("\n") ? first : `${first}\n`);
    writeManifest(dir, "name: signed\nbase: v6.12\nsource: { mbox: one.mbox }\n");
    process.env.WDH_PATATT_KEYRING = join(repoRoot, "test/fixtures/mbox/patatt-keyring");
    try {
      const m = await materializeSeries(loadSeries(dir), sourceOptions, deps);
      expect(m.patches[0]!.attestations).toEqual([expect.objectContaining({ kind: "patatt", status: "pass" })]);
      writeFileSync(join(dir, "one.mbox"), first.replace("goodbye", "farewell"));
      const tampered = await materializeSeries(loadSeries(dir), sourceOptions, deps);
      expect(tampered.patches[0]!.attestations[0]!.status).toBe("fail");
    } finally {
      delete process.env.WDH_PATATT_KEYRING;
    }
  });

  it("series on series: the dependency comes first, once; a cycle is refused", () => {
    const lower = writeManifest(join(work, "lower"), "name: lower\nbase: v6.12\npatches: [0001-demo-use-two-queues.patch]\n");
    cpSync(join(demoGood, "0001-demo-use-two-queues.patch"), join(lower, "0001-demo-use-two-queues.patch"));
    const upper = writeManifest(join(work, "upper"), `name: upper\nbase: v6.12\nafter: ${lower}\npatches: [0002-demo-log-the-queue-count-at-probe.patch]\n`);
    cpSync(join(demoGood, "0002-demo-log-the-queue-count-at-probe.patch"), join(upper, "0002-demo-log-the-queue-count-at-probe.patch"));
    expect(seriesInOrder([upper]).map((s) => s.name)).toEqual(["lower", "upper"]);
    expect(seriesInOrder([lower, upper]).map((s) => s.name)).toEqual(["lower", "upper"]);

    writeFileSync(join(lower, "series.yaml"), `name: lower\nbase: v6.12\nafter: ${upper}\npatches: [0001-demo-use-two-queues.patch]\n`);
    expect(() => seriesInOrder([upper])).toThrow(/goes round in a circle/);
  });

  it("the shipped upstream manifests parse, name their lore threads and depend on each other", () => {
    const [sva, rfc] = seriesInOrder(["warpdrive-rfc-v1"]);
    expect(sva!.name).toBe("sva-v2");
    expect(sva!.source).toEqual({ kind: "lore", messageId: "20180511190641.23008-1-jean-philippe.brucker@arm.com", version: 2 });
    expect(sva!.manifest.count).toBe(40);
    expect(rfc!.source).toEqual({ kind: "lore", messageId: "20180801102221.5308-1-nek.in.cn@gmail.com", version: 1 });
    expect(rfc!.manifest.count).toBe(7);
    expect(rfc!.manifest.base).toBe("v4.18-rc7");
    // the URLs they would fetch
    expect(loreThreadUrl(defaultLoreUrl, "20180511190641.23008-1-jean-philippe.brucker@arm.com")).toBe(
      "https://lore.kernel.org/all/20180511190641.23008-1-jean-philippe.brucker@arm.com/t.mbox.gz",
    );
    expect(loreThreadUrl(defaultLoreUrl, "20180801102221.5308-1-nek.in.cn@gmail.com")).toBe(
      "https://lore.kernel.org/all/20180801102221.5308-1-nek.in.cn@gmail.com/t.mbox.gz",
    );
    expect(sva!.manifest.base).toBe("v4.17-rc4");
    const [alone, ...rest] = seriesInOrder(["warpdrive-rfc-v1-nosva"]);
    expect(rest).toEqual([]);
    expect(alone!.source).toEqual(rfc!.source);
  });
});

describe("the WarpDrive RFC profile", () => {
  it("names a shallow git tree at the RFC's base, the RFC alone, and an older compiler", () => {
    const job = resolveJob({ profile: join(repoRoot, "profiles/warpdrive-rfc-v1.yaml") });
    expect(job.tree).toEqual({ kind: "git", url: "https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git", ref: "v4.18-rc7", depth: 1 });
    expect(job.series.map((s) => [s.name, s.manifest.base])).toEqual([["warpdrive-rfc-v1-nosva", "v4.18-rc7"]]);
    expect(job.profile.toolchain).toMatchObject({ cc: "aarch64-linux-gnu-gcc-11", makeVars: { HOSTCFLAGS: "-fcommon" } });
    expect(kernelMakeArgs({ buildDir: "/b", toolchain: job.profile.toolchain })).toEqual([
      "O=/b",
      "ARCH=arm64",
      "CROSS_COMPILE=aarch64-linux-gnu-",
      "CC=ccache aarch64-linux-gnu-gcc-11",
      "HOSTCFLAGS=-fcommon",
    ]);
  });
});

describe("base check", () => {
  let tree: KernelTree;
  let base: string;
  beforeEach(async () => {
    const dir = join(work, "tree");
    base = await fakeTree(dir);
    await git(exec, dir, ["tag", "v6.12-fake"]);
    tree = { ...(await prepareTree({ kind: "path", path: dir }, deps)).output!, managed: true };
  });

  it("versionOfTag reads mainline tags as the Makefile says them", () => {
    expect(versionOfTag("v4.18")).toBe("4.18.0");
    expect(versionOfTag("v5.7-rc1")).toBe("5.7.0-rc1");
    expect(versionOfTag("v6.12.3")).toBe("6.12.3");
    expect(versionOfTag("next-20260101")).toBeUndefined();
  });

  it("a tag of the tree at its base matches; at another commit it does not, naming both", async () => {
    expect(await checkBase("v6.12-fake", tree, deps)).toMatchObject({ matches: true, how: "git commit" });
    await git(exec, tree.path, ["commit", "-q", "--allow-empty", "-m", "later"]);
    const later = { ...tree, baseCommit: await gitOut(exec, tree.path, ["rev-parse", "HEAD"]) };
    const c = await checkBase("v6.12-fake", later, deps);
    expect(c.matches).toBe(false);
    expect(c.stated).toBe(`v6.12-fake (${base.slice(0, 12)})`);
    expect(c.actual).toMatch(/at v6\.12-fake-1-g[0-9a-f]+$/);
  });

  it("a mainline tag the tree does not carry is compared with the Makefile", async () => {
    expect(await checkBase("v6.12", tree, deps)).toMatchObject({ matches: true, how: "Makefile version" });
    const c = await checkBase("v4.18", tree, deps);
    expect(c).toMatchObject({ matches: false, stated: "v4.18 (Makefile 4.18.0)" });
    expect(c.actual).toContain("Makefile 6.12.0");
  });

  it("a Debian base needs the Debian tree; an unknown name is refused", async () => {
    expect((await checkBase("debian linux-source-6.12", tree, deps)).matches).toBe(false);
    const debian = { ...tree, debian: { package: "linux-source-6.12", version: "6.12.117-1~deb12u1" } };
    expect((await checkBase("debian linux-source-6.12", debian, deps)).matches).toBe(true);
    expect((await checkBase("debian linux-source-6.1", debian, deps)).matches).toBe(false);
    // A QEMU series names the package and its version: both must match.
    const qemu = { ...tree, kernelVersion: undefined, debian: { package: "qemu", version: "1:10.2.2+ds-1" } };
    expect((await checkBase("debian qemu 1:10.2.2+ds-1", qemu, deps)).matches).toBe(true);
    expect(await checkBase("debian qemu 1:10.1.0+ds-2", qemu, deps)).toMatchObject({ matches: false, actual: "debian qemu 1:10.2.2+ds-1" });
    expect(await checkBase("deadbeefdeadbeef", tree, deps)).toMatchObject({ matches: false, how: "deadbeefdeadbeef is not a commit of this tree" });
  });
});

describe("a tree from a git url", () => {
  it("fetches a tag shallow, caches it, and works offline the next time", async () => {
    const upstream = join(work, "upstream");
    await fakeTree(upstream);
    await git(exec, upstream, ["commit", "-q", "--allow-empty", "-m", "second"]);
    await git(exec, upstream, ["tag", "-a", "-m", "release", "v6.12-fake"]);
    const tagged = await gitOut(exec, upstream, ["rev-parse", "HEAD"]);
    await git(exec, upstream, ["commit", "-q", "--allow-empty", "-m", "after the tag"]);
    const url = `file://${upstream}`;

    const first = (await prepareTree({ kind: "git", url, ref: "v6.12-fake", depth: 1 }, deps)).output!;
    expect(first).toMatchObject({ managed: true, baseCommit: tagged, kernelVersion: "6.12.0" });
    expect(await gitOut(exec, first.path, ["rev-list", "--count", "HEAD"])).toBe("1"); // shallow
    expect((await checkBase("v6.12-fake", first, deps)).matches).toBe(true); // the tag came along
    expect(await treeState(exec, first.path)).toMatchObject({ head: tagged, dirty: null });

    rmSync(upstream, { recursive: true, force: true });
    const again = (await prepareTree({ kind: "git", url, ref: "v6.12-fake", depth: 1 }, deps)).output!;
    expect(again).toMatchObject({ path: first.path, baseCommit: tagged });
  });

  it("a branch is fetched again each run, and the cached copy is used when the url is gone", async () => {
    const upstream = join(work, "upstream");
    const one = await fakeTree(upstream);
    const url = `file://${upstream}`;
    expect((await prepareTree({ kind: "git", url, ref: "main", depth: 1 }, deps)).output!.baseCommit).toBe(one);
    await git(exec, upstream, ["commit", "-q", "--allow-empty", "-m", "moved on"]);
    const two = await gitOut(exec, upstream, ["rev-parse", "HEAD"]);
    expect((await prepareTree({ kind: "git", url, ref: "main", depth: 1 }, deps)).output!.baseCommit).toBe(two);
    rmSync(upstream, { recursive: true, force: true });
    expect((await prepareTree({ kind: "git", url, ref: "main", depth: 1 }, deps)).output!.baseCommit).toBe(two);
    await expect(prepareTree({ kind: "git", url: `file://${work}/nowhere`, ref: "main", depth: 1 }, deps)).rejects.toThrow(/cannot reach/);
  });
});
