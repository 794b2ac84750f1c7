// Bisection end to end on the real kernel: the bisect-panic fixture (four patches on Debian's 6.12 after
// patches/warpdrive-virtio, the third panics in virtcrypto_probe at boot). Patch-level, tree-level, and `git bisect run` with the step
// command must each name the third patch, with exit codes git bisect can live with.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { repoRoot } from "../../harness/lib/paths.ts";
import { BUILDS, cli, COLD_KERNEL, runJson } from "./cli.ts";

const fixtureSeries = join(repoRoot, "test/fixtures/series/bisect-panic");
const culprit = "crypto: virtio - store through a NULL pointer at probe (test fixture)";
// The baseline suite is enough: the bug is at boot, and it keeps each point's test phase short.
const job = ["--tests", "baseline", "--quiet"];
// Without a series the job has only the profile's fragments: a tree-level bisection of commits that carry
// warpdrive-virtio's code asks for its test hooks too, as the series would, and so builds in the same dir.
const seriesConfig = ["--fragments", "base,ssh,pci-virtio,iommu,crypto,uacce,debug,debug-warpdrive-virtio"];

const git = (cwd: string, ...args: string[]) => execa("git", args, { cwd, reject: false, all: true });

let treeDir = "";
let base = "";
let head = "";

describe("npm run bisect on the real kernel", () => {
  // The cached tree is shared with every later test: whatever a test's checks say, no bisection is left
  // in progress in it (git bisect reset is harmless when none is).
  afterEach(async () => {
    if (treeDir) await git(treeDir, "bisect", "reset");
  });
  // Every test after the first works on the tree the first one found: without it, say so once, clearly,
  // rather than run git with cwd "".
  beforeEach((t) => {
    if (!t.task.name.startsWith("patch-level") && !t.task.name.startsWith("the step command") && !treeDir) {
      throw new Error("the patch-level bisection did not name the tree (it failed first)");
    }
  });

  it("patch-level, after the boot test that failed: names the third patch of four in at most ceil(log2 4) + 1 builds", COLD_KERNEL, async () => {
    // The usual order of things: the series' boot test fails (the panic, exit 1), then the bisection.
    const failing = await cli("boot-test", "--series", fixtureSeries, ...job);
    expect(failing.exitCode, failing.output).toBe(1);
    const run = await cli("bisect", "--series", fixtureSeries, "--hunt", "boot", ...job);
    expect(run.exitCode, run.output).toBe(0);
    expect(run.output).toContain(culprit);
    const r = runJson(run.runDir, "results.json");
    expect(r.status).toBe("found");
    // What the later tests build on, taken before the checks that do not concern them, so that one failing
    // check here (say, a build another run forced) fails this test only.
    const manifest = runJson(run.runDir, "manifest.json");
    treeDir = manifest.tree.path;
    // the fixture's four patches, not warpdrive-virtio's seven under them
    expect(run.output).toMatch(/bisect: 4 patches of bisect-panic on .* \+ warpdrive-virtio/);
    base = r.steps.find((s: { role: string }) => s.role === "good-end")?.commit ?? "";
    head = r.steps.find((s: { role: string }) => s.role === "bad-end")?.commit ?? "";
    expect((await git(treeDir, "log", "--format=%s", "-1", base)).stdout).toMatch(/^Documentation: misc-devices: describe virtio-crypto/);
    expect(r.firstBad.subject).toBe(culprit);
    expect(r.hunted).toMatch(/virtcrypto_probe/);
    expect(r.steps.length).toBeLessThanOrEqual(4);
    // the bad end is the kernel the failing boot test built: every other point is one incremental build
    expect(r.steps[0]).toMatchObject({ role: "bad-end", builds: 0 });
    expect(r.totals.builds).toBeLessThanOrEqual(Math.ceil(Math.log2(4)) + 1);
    for (const step of r.steps) expect(step.durationMs).toBeGreaterThan(0);
    // evidence: the bad step's and the last good step's run folders, each a full run folder
    for (const dir of [r.badStep.outcomes[0].runDir, r.lastGood.outcomes[0].runDir]) {
      expect(readFileSync(join(dir, "console.log"), "utf8").length).toBeGreaterThan(0);
    }
    expect(readFileSync(join(run.runDir, "junit.xml"), "utf8")).toContain("<testsuite");
    // a report in the bisection's folder, naming the culprit and linking each step's own report, which exists
    const page = readFileSync(join(run.runDir, "report.html"), "utf8");
    expect(page).toContain(culprit);
    for (const step of r.steps as { outcomes: { runDir: string }[] }[]) {
      for (const o of step.outcomes) expect(readFileSync(join(o.runDir, "report.html"), "utf8")).toContain("<html");
    }
    // The replay log is git's own: git bisect replay in the tree reaches the same first bad commit.
    const replay = await git(treeDir, "bisect", "replay", join(run.runDir, "bisect.log"));
    expect(replay.all).toContain(`is the first bad commit`);
    expect(replay.all).toContain(r.firstBad.commit);
  });

  it("tree-level: --good/--bad over the tree's history finds the same commit", BUILDS, async () => {
    const run = await cli("bisect", "--tree", treeDir, "--no-series", ...seriesConfig, "--good", base, "--bad", head, ...job);
    expect(run.exitCode, run.output).toBe(0);
    const r = runJson(run.runDir, "results.json");
    expect(r.firstBad.subject).toBe(culprit);
    // every point was already built once by the patch-level run: no cold build anywhere
    for (const step of r.steps) expect(step.durationMs).toBeLessThan(120_000);
  });

  it("endpoints first: a good end that fails stops the run naming it", async () => {
    const run = await cli("bisect", "--tree", treeDir, "--no-series", ...seriesConfig, "--good", head, "--bad", head, "--hunt", "boot", ...job);
    expect(run.exitCode, run.output).toBe(1);
    expect(run.output).toMatch(/stopped: the good end [0-9a-f]{12} .* fails \(bad: boot: kernel died during boot/);
  });

  it("git bisect run with the step command: exits only 0/1/125 and names the commit", BUILDS, async () => {
    await git(treeDir, "bisect", "reset");
    await git(treeDir, "bisect", "start", head, base);
    // From the tree's directory, as a developer would call it: the wrapper finds the harness by its own path.
    const step = [join(repoRoot, "scripts/bisect-step"), "--tree", treeDir, "--no-series", ...seriesConfig, "--hunt", "boot", ...job];
    const r = await execa("git", ["bisect", "run", ...step], { cwd: treeDir, reject: false, all: true });
    expect(r.all).toContain("is the first bad commit");
    expect(r.all).toContain(culprit);
    expect(r.all).not.toMatch(/exit code [2-9]\d{2}|bisect run failed/);
    // two points between the verified ends of four patches, each judged and answered 0 or 1
    expect((r.all ?? "").match(/^bisect-step: [0-9a-f]{12} (good|bad) /gm)?.length).toBe(2);
  });

  it("the same series from an mbox (git format-patch files concatenated): same kernel, provenance per mail, checkpatch enforced", BUILDS, async () => {
    const { mkdtempSync, readdirSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const mbox = join(mkdtempSync(join(tmpdir(), "wdh-mbox-")), "bisect-panic.mbox");
    const files = readdirSync(fixtureSeries)
      .filter((f) => f.endsWith(".patch"))
      .sort();
    writeFileSync(mbox, files.map((f) => readFileSync(join(fixtureSeries, f), "utf8")).join(""));
    const run = await cli("build-kernel", "--series", "warpdrive-virtio", "--mbox", mbox, "--checkpatch", "enforce", "--quiet");
    expect(run.exitCode, run.output).toBe(0);
    const r = runJson(run.runDir, "results.json");
    // warpdrive-virtio's seven patches, then the four mails
    const mails = (r.patches as { subject: string; provenance: { kind: string; part: string } }[]).slice(7);
    expect(mails[2]!.subject).toBe(culprit);
    expect(mails.map((p) => `${p.provenance.kind} ${p.provenance.part}`)).toEqual(["mbox v1 1/4", "mbox v1 2/4", "mbox v1 3/4", "mbox v1 4/4"]);
    expect(r.checkpatch.map((v: { verdict: string }) => v.verdict)).toEqual(Array(11).fill("clean"));
    // the mails give the very commits the .patch files gave
    const manifest = runJson(run.runDir, "manifest.json");
    expect(manifest.series.head).toBe(head);
  });

  it("the step command maps a usage error to 125 (skip), never to git bisect's abort range", async () => {
    const r = await cli("bisect-step", "--hunt", "nonsense");
    expect(r.exitCode).toBe(125);
    expect(r.output).toContain("--hunt nonsense");
  });
});
