// The faults issue 13 found answered end to end: a driver that spins in probe ends the boot on the
// kernel's stall report (not the boot timeout) with the evidence kept; Ctrl-C during the guest tests
// records 130; reproduce.sh of a tinyconfig job, run by hand, makes the same .config.
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../harness/lib/paths.ts";
import { createContext } from "../../harness/commands/jobs.ts";
import { buildSteps, holdTree } from "../../harness/commands/build-steps.ts";
import { runSteps } from "../../harness/commands/run-steps.ts";
import { finishRun } from "../../harness/commands/finish.ts";
import { cli, COLD_KERNEL, runJson } from "./cli.ts";

const fixture = (...p: string[]) => join(repoRoot, "test/fixtures", ...p);
const results = (runDir: string) => runJson(runDir, "results.json");
type Stage = { stage: string; status: string; durationMs: number };

describe("evidence on every path", () => {
  it("a driver that spins in probe: the boot ends on the stall within 30 s, the stall decoded in results.json", COLD_KERNEL, async () => {
    const run = await cli("boot-test", "--series", fixture("series/spin-at-probe"), "--tests", "baseline", "--quiet");
    expect(run.exitCode, run.output).toBe(1);
    const r = results(run.runDir);
    const boot = r.stages.find((s: Stage) => s.stage === "boot") as Stage;
    expect(boot.status).toBe("fail");
    expect(boot.durationMs).toBeLessThan(30_000);
    expect(r.outcome).toMatchObject({
      kind: "regression",
      stage: "boot",
      signature: { type: "crash", kind: expect.stringMatching(/^(rcu-stall|soft-lockup)$/) },
    });
    expect(r.outcome.signature.frames.join(" ")).toMatch(/virtcrypto_probe/);
    expect(r.reason).toMatch(/^boot: kernel hung during boot: /);
    expect(r.consoleFindings.map((f: { kind: string }) => f.kind)).toEqual(expect.arrayContaining([expect.stringMatching(/^(rcu-stall|soft-lockup)$/)]));
    expect(readFileSync(join(run.runDir, "decoded-stack.txt"), "utf8")).toMatch(/virtcrypto_probe \(.*drivers\/crypto\/virtio\/virtio_crypto_core\.c:\d+/);
    // the QEMU line stays in reproduce.sh when the boot failed
    expect(readFileSync(join(run.runDir, "reproduce.sh"), "utf8")).toMatch(/^qemu-system-aarch64 .* -kernel \S+-Image /m);
    expect(r.tests.every((t: { status: string }) => t.status === "skip")).toBe(true);
  });

  it("Ctrl-C during the guest tests: exit 130, and results.json records 130 (interrupted), not an SSH failure", async () => {
    const runs = mkdtempSync(join(tmpdir(), "wdh-runs-"));
    try {
      const child = execa("node", ["--import", "tsx", "harness/cli/main.ts", "boot-test", "--tests", fixture("guest-tests/slow"), "--quiet"], {
        cwd: repoRoot,
        reject: false,
        all: true,
        env: { CI: "1", WDH_RUNS_DIR: runs },
      });
      const consoleOf = () =>
        readdirSync(runs)
          .map((d) => join(runs, d, "console.log"))
          .find(existsSync);
      const deadline = Date.now() + 15 * 60_000;
      while (Date.now() < deadline) {
        const c = consoleOf();
        if (c && readFileSync(c, "utf8").includes("test-begin slow/sleeps")) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      await new Promise((r) => setTimeout(r, 1000));
      child.kill("SIGINT");
      const r = await child;
      expect(r.exitCode, r.all).toBe(130);
      const runDir = join(runs, readdirSync(runs)[0]!);
      const res = results(runDir);
      expect(res).toMatchObject({ exitCode: 130, outcome: { kind: "interrupted", stage: "guest" } });
      expect(res.tests.map((t: { status: string }) => t.status)).toEqual(["error", "skip"]);
      expect(runJson(runDir, "manifest.json").exitCode).toBe(130);
    } finally {
      rmSync(runs, { recursive: true, force: true });
    }
  });
});

describe("series sources", () => {
  it("a folder of git format-patch output without series.yaml boots (cover letter left out, patches in file order)", COLD_KERNEL, async () => {
    const dir = mkdtempSync(join(tmpdir(), "wdh-format-patch-"));
    try {
      const from = join(repoRoot, "patches/warpdrive-virtio");
      const patches = readdirSync(from).filter((f) => f.endsWith(".patch"));
      for (const f of patches) copyFileSync(join(from, f), join(dir, f));
      // the default fragments plus the one warpdrive-virtio's series.yaml brings (a bare folder names none)
      const fragments = "base,ssh,pci-virtio,iommu,crypto,uacce,debug,debug-warpdrive-virtio";
      const run = await cli("boot-test", "--series", dir, "--fragments", fragments, "--tests", "baseline", "--quiet");
      expect(run.exitCode, run.output).toBe(0);
      const r = results(run.runDir);
      expect(r.outcome).toEqual({ kind: "pass" });
      expect(r.patches.map((p: { subject: string }) => p.subject)).toHaveLength(patches.filter((f) => !f.startsWith("0000-cover-letter")).length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("reproduce.sh from what ran", () => {
  it("a tinyconfig job: the script's config lines, run by hand into another build dir, make the same .config", async () => {
    const runs = mkdtempSync(join(tmpdir(), "wdh-runs-"));
    const out = mkdtempSync(join(tmpdir(), "wdh-tiny-"));
    const saved = process.env.WDH_RUNS_DIR;
    process.env.WDH_RUNS_DIR = runs;
    try {
      const ctx = createContext("build-kernel", { profile: fixture("profiles/tinyconfig.yaml") }, new AbortController().signal);
      const upToKconfig = buildSteps.slice(0, buildSteps.findIndex((s) => s.id === "kconfig") + 1);
      await runSteps(upToKconfig, ctx, "silent").catch(() => {});
      const made = readFileSync(ctx.config?.dotConfig ?? join(ctx.buildDir!, ".config"), "utf8");
      finishRun(ctx, "build-kernel");
      const script = readFileSync(ctx.run.file("reproduce.sh"), "utf8");
      expect(script).toMatch(/^make O=\S+ ARCH=arm64 .* tinyconfig$/m);
      expect(script).toMatch(/^ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- scripts\/kconfig\/merge_config.sh -m -O /m);
      expect(script).not.toMatch(/merge_config.sh -n/);
      const buildDir = ctx.buildDir!;
      // By hand, as the script says, into another build dir (the tree held, as a run would hold it).
      const lines = script.split("\n");
      const from = lines.findIndex((l) => l.startsWith("cd "));
      const to = lines.findIndex((l) => / olddefconfig$/.test(l));
      const byHand = ["set -e", ...lines.slice(from, to + 1)].join("\n").replaceAll(buildDir, out);
      const release = await holdTree(ctx.tree!.path, new AbortController().signal, () => {});
      try {
        execFileSync("sh", ["-c", byHand], { stdio: "pipe" });
        expect(readFileSync(join(out, ".config"), "utf8")).toBe(made);
      } finally {
        release();
      }
    } finally {
      if (saved === undefined) delete process.env.WDH_RUNS_DIR;
      else process.env.WDH_RUNS_DIR = saved;
      rmSync(runs, { recursive: true, force: true });
      rmSync(out, { recursive: true, force: true });
    }
  });
});
