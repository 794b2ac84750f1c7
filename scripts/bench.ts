// npm run bench [-- --skip-cold | --only-cold] [--repeat N]
// Prints the figures the harness is held to, each next to the same step done by hand (plain make,
// qemu-system-aarch64, ssh) on this machine. Not a test: it measures and prints.
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { configStateId } from "../harness/lib/git.ts";
import { createExec } from "../harness/lib/exec.ts";
import { cacheDir, repoRoot } from "../harness/lib/paths.ts";
import type { Deps } from "../harness/lib/stage.ts";
import { buildKernel } from "../harness/stages/build/build.ts";
import { defaultToolchain, kernelMakeArgs, kernelMakeEnv } from "../harness/stages/build/make.ts";
import { configureKernel } from "../harness/stages/kconfig/kconfig.ts";
import { freeLoopbackPort } from "../harness/stages/qemu/boot.ts";
import { prepareTree } from "../harness/stages/tree/tree.ts";
import { buildDirFor } from "../harness/commands/build-steps.ts";

const args = process.argv.slice(2);
const skipCold = args.includes("--skip-cold");
const onlyCold = args.includes("--only-cold");
const repeat = Number(args[args.indexOf("--repeat") + 1]) || 3;
const exec = createExec();
const deps: Deps = { exec, signal: new AbortController().signal, progress: () => {} };
const fragments = ["base", "ssh", "pci-virtio", "iommu", "crypto", "uacce", "debug"].map((f) => join(repoRoot, "kernel-config", `${f}.config`));
const driverFile = "drivers/crypto/virtio/virtio_crypto_core.c";
const rows: [string, string, string, string][] = [];

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t = performance.now();
  const r = await fn();
  return [performance.now() - t, r];
}
function row(what: string, harness: number | undefined, byHand: number | undefined, target: string) {
  rows.push([what, harness === undefined ? "-" : s(harness), byHand === undefined ? "-" : s(byHand), target]);
  console.log(`${what.padEnd(44)} harness ${rows.at(-1)![1].padStart(8)}   by hand ${rows.at(-1)![2].padStart(8)}   target ${target}`);
}
async function cli(...a: string[]) {
  const [ms, r] = await timed(() => execa("npx", ["tsx", "harness/cli/main.ts", ...a], { cwd: repoRoot, reject: false, all: true, env: { CI: "1" } }));
  const runDir = /run folder: (.*)/.exec(r.all ?? "")?.[1]?.trim();
  if (r.exitCode !== 0 || !runDir) throw new Error(`harness ${a.join(" ")} exited ${r.exitCode}\n${r.all}`);
  return { ms, runDir, results: JSON.parse(readFileSync(join(runDir, "results.json"), "utf8")) };
}
const nproc = cpus().length;
const make = (tree: string, buildDir: string, targets: string[], ccache: boolean) =>
  execa("make", [...kernelMakeArgs({ buildDir, toolchain: { ...defaultToolchain, ccache } }), `-j${nproc}`, ...targets], {
    cwd: tree,
    env: kernelMakeEnv({ ...defaultToolchain, ccache }),
  });

const tree = (await prepareTree({ kind: "debian", package: "linux-source-6.12" }, deps)).output!;
console.log(`tree ${tree.description}, ${nproc} cores\n`);

// ---- cold build: the harness's kconfig + build stages with an empty ccache, and the same by hand without it
if (!skipCold) {
  const benchDir = mkdtempSync(join(cacheDir("bench"), "cold-"));
  process.env.CCACHE_DIR = join(benchDir, "ccache");
  const hb = join(benchDir, "harness-build");
  const [hMs] = await timed(async () => {
    const input = { treeDir: tree.path, treeStateId: configStateId(tree.state), buildDir: hb, base: "allnoconfig" as const, fragments, toolchain: defaultToolchain, logFile: join(benchDir, "h.log") };
    const c = await configureKernel(input, deps);
    const b = await buildKernel({ ...input, configKey: c.output!.key, treeDirty: false, treeStateId: tree.state.head }, deps);
    if (b.status !== "pass") throw new Error(`cold build failed: ${b.reason}`);
  });
  const mb = join(benchDir, "by-hand-build");
  const [mMs] = await timed(async () => {
    mkdirSync(mb, { recursive: true }); // merge_config.sh -O wants it to exist
    await execa(join(tree.path, "scripts/kconfig/merge_config.sh"), ["-n", "-O", mb, ...fragments], { cwd: tree.path, env: { ARCH: "arm64", CROSS_COMPILE: "aarch64-linux-gnu-" } });
    await execa("make", [`O=${mb}`, "ARCH=arm64", "CROSS_COMPILE=aarch64-linux-gnu-", "olddefconfig"], { cwd: tree.path });
    await execa("make", [`O=${mb}`, "ARCH=arm64", "CROSS_COMPILE=aarch64-linux-gnu-", `-j${nproc}`, "Image", "headers_install"], { cwd: tree.path });
  });
  row("cold build (config + Image + headers)", hMs, mMs, "<= 9.5 min");
  delete process.env.CCACHE_DIR;
  rmSync(benchDir, { recursive: true, force: true });
}
if (onlyCold) {
  printTable();
  process.exit(0);
}

// ---- warm: make sure the default job is built and booted once
await cli("boot-test");
const buildDir = buildDirFor(tree.path, "arm64");

// ---- no-op rebuild
const noopHand = median(await repeatN(async () => (await timed(() => make(tree.path, buildDir, ["Image", "headers_install"], true)))[0]));
const noopHarness = median(await repeatN(async () => (await cli("build-kernel")).results.timings.build));
row("no-op rebuild (build stage)", noopHarness, noopHand, "<= 10 s");

// ---- one driver file edited: rebuild, and edit -> verdict (the whole boot-test on the edited tree)
const file = join(tree.path, driverFile);
const original = readFileSync(file, "utf8");
try {
  appendFileSync(file, "/* bench edit 1 */\n");
  const [oneHand] = await timed(() => make(tree.path, buildDir, ["Image"], true));
  appendFileSync(file, "/* bench edit 2 */\n");
  // The tree already carries the default series (the warm run applied it): test it as it is.
  const verdict = await cli("boot-test", "--tree", tree.path, "--no-series");
  row("one-file rebuild (build stage)", verdict.results.timings.build, oneHand, "<= 16 s");
  row("edit one driver file -> verdict", verdict.ms, undefined, "<= 25 s");
} finally {
  writeFileSync(file, original);
}
await cli("boot-test"); // back to the clean tree's kernel

// ---- boot to SSH ready, and the whole boot-test after a build. The by-hand runs run the baseline suite,
// so the harness's do too; the default profile (baseline + warpdrive) gets a row of its own.
const runs = await repeatN(() => cli("boot-test", "--tests", "baseline"));
row("boot to SSH ready", median(runs.map((r) => r.results.timings.bootToSshMs)), await bootByHand(runs.at(-1)!.runDir, false), "<= 2.5 s");
row("whole boot-test after a build, baseline", median(runs.map((r) => r.ms)), await bootTestByHand(runs.at(-1)!.runDir), "<= 15 s");
row("whole boot-test, default profile", median((await repeatN(() => cli("boot-test"))).map((r) => r.ms)), undefined, "<= 15 s");
const h = median(runs.map((r) => r.results.timings.boot + r.results.timings.ssh + r.results.timings.guest));
const m = await bootByHand(runs.at(-1)!.runDir, true);
row("boot + ssh + baseline tests (overhead)", h, m, `<= 5 % over by hand (${(((h - m) / m) * 100).toFixed(1)} %)`);

// ---- patch-level bisect of a 4-patch series whose 3rd patch panics, right after its boot test failed
{
  const series = join(repoRoot, "test/fixtures/series/bisect-panic");
  const failing = await execa("npx", ["tsx", "harness/cli/main.ts", "boot-test", "--series", series, "--tests", "baseline"], { cwd: repoRoot, reject: false, env: { CI: "1" } });
  if (failing.exitCode !== 1) throw new Error(`the bisect-panic boot test should fail with exit 1, got ${failing.exitCode}`);
  const [ms, r] = await timed(() => execa("npx", ["tsx", "harness/cli/main.ts", "bisect", "--series", series, "--tests", "baseline", "--hunt", "boot"], { cwd: repoRoot, reject: false, all: true, env: { CI: "1" } }));
  const runDir = /run folder: (.*)/.exec(r.all ?? "")?.[1]?.trim();
  if (r.exitCode !== 0 || !runDir) throw new Error(`bisect exited ${r.exitCode}\n${r.all}`);
  const b = JSON.parse(readFileSync(join(runDir, "results.json"), "utf8")) as { totals: { steps: number; builds: number }; steps: { role: string; durationMs: number; builds: number }[] };
  const perStep = b.steps.map((st) => `${st.role} ${s(st.durationMs)}${st.builds ? "" : " (no build)"}`).join(", ");
  row(`bisect 4 patches: ${b.totals.steps} points, ${b.totals.builds} builds`, ms, undefined, `<= ceil(log2 4)+1 = 3 builds; ${perStep}`);
}

printTable();

function printTable() {
  console.log("\n| step | harness | by hand | target |\n| --- | --- | --- | --- |");
  for (const r of rows) console.log(`| ${r.join(" | ")} |`);
}

async function repeatN<T>(fn: () => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < repeat; i++) out.push(await fn());
  return out;
}

/** QEMU with the run's argv and initramfs, then OpenSSH until it answers; optionally the baseline tests. */
async function bootByHand(runDir: string, runTests: boolean): Promise<number> {
  const argv = JSON.parse(readFileSync(join(runDir, "qemu.argv.json"), "utf8")) as string[];
  const port = await freeLoopbackPort();
  const fwd = argv.findIndex((a) => a.includes("hostfwd="));
  argv[fwd] = argv[fwd]!.replace(/hostfwd=tcp:127\.0\.0\.1:\d+-/, `hostfwd=tcp:127.0.0.1:${port}-`);
  const ssh = (cmd: string) =>
    execa("ssh", ["-q", "-i", join(runDir, "id_ed25519"), "-p", String(port), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=2", "root@127.0.0.1", cmd], { reject: false });
  const t = performance.now();
  const qemu = execa(argv[0]!, argv.slice(1), { reject: false, stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  try {
    while ((await ssh("true")).exitCode !== 0) {
      if (performance.now() - t > 60_000) throw new Error("by-hand boot: no SSH within 60 s");
      await new Promise((r) => setTimeout(r, 50));
    }
    if (runTests) {
      for (const test of ["smmu-probed.sh", "iommu-groups.sh", "aes-cbc-kat", "kernel-log-clean.sh"]) {
        await ssh(`cd /opt/wdh/baseline && ${test.endsWith(".sh") ? "sh " : "./"}${test}`);
      }
    }
    return performance.now() - t;
  } finally {
    qemu.kill("SIGKILL");
    await qemu;
  }
}

/** By hand, a developer runs make (a no-op here) before booting. */
async function bootTestByHand(runDir: string): Promise<number> {
  const [makeMs] = await timed(() => make(tree.path, buildDir, ["Image"], true));
  return makeMs + (await bootByHand(runDir, true));
}
