// npm run bench [-- --skip-cold | --only-cold] [--repeat N] [--no-qemu | --only-qemu | --only-qemu-cold] [--no-sva | --only-sva]
//                 [--only-warpdrive]
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
import { freeLoopbackPort } from "../harness/executors/local-qemu/boot.ts";
import { prepareTree } from "../harness/stages/tree/tree.ts";
import { buildDirFor } from "../harness/commands/build-steps.ts";
import { resolveJob } from "../harness/config/resolve.ts";
import { treeState } from "../harness/lib/git.ts";
import { buildQemu, qemuBuildDirFor } from "../harness/stages/qemu-build/build.ts";
import { prepareQemuTree } from "../harness/stages/qemu-build/source.ts";
import { devicesFor } from "../harness/stages/qemu-build/devices.ts";
import { applySeries } from "../harness/stages/series/series.ts";
import { materializeSeries } from "../harness/stages/series/sources.ts";

const args = process.argv.slice(2);
const skipCold = args.includes("--skip-cold");
const onlyCold = args.includes("--only-cold");
const repeat = Number(args[args.indexOf("--repeat") + 1]) || 3;
const withQemu = !args.includes("--no-qemu");
const onlyQemu = args.includes("--only-qemu");
const withSva = !args.includes("--no-sva");
const onlySva = args.includes("--only-sva");
const onlyWarpdrive = args.includes("--only-warpdrive");
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
/** Like cli(), but a run that ended with a verdict other than pass still gives its results. */
async function cliAnyway(...a: string[]) {
  const [ms, r] = await timed(() => execa("npx", ["tsx", "harness/cli/main.ts", ...a], { cwd: repoRoot, reject: false, all: true, env: { CI: "1" } }));
  const runDir = /run folder: (.*)/.exec(r.all ?? "")?.[1]?.trim();
  if (!runDir) throw new Error(`harness ${a.join(" ")} exited ${r.exitCode} without a run folder\n${r.all}`);
  if (r.exitCode !== 0) console.log(`(harness ${a.join(" ")} exited ${r.exitCode}: figures from ${runDir} anyway)`);
  return { ms, runDir, results: JSON.parse(readFileSync(join(runDir, "results.json"), "utf8")) };
}
const nproc = cpus().length;
const make = (tree: string, buildDir: string, targets: string[], ccache: boolean) =>
  execa("make", [...kernelMakeArgs({ buildDir, toolchain: { ...defaultToolchain, ccache } }), `-j${nproc}`, ...targets], {
    cwd: tree,
    env: kernelMakeEnv({ ...defaultToolchain, ccache }),
  });

if (onlyWarpdrive) {
  await warpdriveRows();
  printTable();
  process.exit(0);
}
if (onlySva) {
  await svaRows();
  printTable();
  process.exit(0);
}
if (args.includes("--only-qemu-cold")) {
  await qemuColdRows();
  printTable();
  process.exit(0);
}
if (onlyQemu) {
  await qemuRows();
  printTable();
  process.exit(0);
}
const tree = (await prepareTree({ kind: "debian", package: "linux-source-6.12" }, deps)).output!;
console.log(`tree ${tree.description}, ${nproc} cores\n`);

// ---- cold build: the harness's kconfig + build stages with an empty ccache, and the same by hand without it
if (!skipCold) {
  const benchDir = mkdtempSync(join(cacheDir("bench"), "cold-"));
  process.env.CCACHE_DIR = join(benchDir, "ccache");
  const hb = join(benchDir, "harness-build");
  const [hMs] = await timed(async () => {
    const input = {
      treeDir: tree.path,
      treeStateId: configStateId(tree.state),
      buildDir: hb,
      base: "allnoconfig" as const,
      fragments,
      toolchain: defaultToolchain,
      logFile: join(benchDir, "h.log"),
    };
    const c = await configureKernel(input, deps);
    const b = await buildKernel({ ...input, configKey: c.output!.key, treeDirty: false, treeStateId: tree.state.head }, deps);
    if (b.status !== "pass") throw new Error(`cold build failed: ${b.reason}`);
  });
  const mb = join(benchDir, "by-hand-build");
  const [mMs] = await timed(async () => {
    mkdirSync(mb, { recursive: true }); // merge_config.sh -O wants it to exist
    await execa(join(tree.path, "scripts/kconfig/merge_config.sh"), ["-n", "-O", mb, ...fragments], {
      cwd: tree.path,
      env: { ARCH: "arm64", CROSS_COMPILE: "aarch64-linux-gnu-" },
    });
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
const defaultJob = resolveJob({});
const buildDir = buildDirFor(tree.path, "arm64", defaultJob.profile.kconfig.base, defaultJob.fragments);

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
  const failing = await execa("npx", ["tsx", "harness/cli/main.ts", "boot-test", "--series", series, "--tests", "baseline"], {
    cwd: repoRoot,
    reject: false,
    env: { CI: "1" },
  });
  if (failing.exitCode !== 1) throw new Error(`the bisect-panic boot test should fail with exit 1, got ${failing.exitCode}`);
  const [ms, r] = await timed(() =>
    execa("npx", ["tsx", "harness/cli/main.ts", "bisect", "--series", series, "--tests", "baseline", "--hunt", "boot"], {
      cwd: repoRoot,
      reject: false,
      all: true,
      env: { CI: "1" },
    }),
  );
  const runDir = /run folder: (.*)/.exec(r.all ?? "")?.[1]?.trim();
  if (r.exitCode !== 0 || !runDir) throw new Error(`bisect exited ${r.exitCode}\n${r.all}`);
  const b = JSON.parse(readFileSync(join(runDir, "results.json"), "utf8")) as {
    totals: { steps: number; builds: number };
    steps: { role: string; durationMs: number; builds: number }[];
  };
  const perStep = b.steps.map((st) => `${st.role} ${s(st.durationMs)}${st.builds ? "" : " (no build)"}`).join(", ");
  row(`bisect 4 patches: ${b.totals.steps} points, ${b.totals.builds} builds`, ms, undefined, `<= ceil(log2 4)+1 = 3 builds; ${perStep}`);
}

if (withQemu) await qemuRows();
if (withSva) await svaRows();
await warpdriveRows();

printTable();

// ---- WarpDrive with SVA (profiles/sva.yaml, 7.2 + patches/warpdrive-sva on the built QEMU): the zero-copy
// queue in the process's own memory, against the 6.12 one-process queue that copies through its DUS area
// (the default profile's warpdrive bench) and against AF_ALG, then 1, 2 and 4 processes on one device.
// Figures come from the guest benchmarks' own metrics in results.json; emulated timing says nothing about
// hardware, so what counts is the ratios measured within one run.
async function svaRows() {
  type Run = Awaited<ReturnType<typeof cli>>;
  const metric = (r: Run, key: string): number | undefined => r.results.tests.find((t: { name: string }) => t.name === "bench")?.metrics?.[key]?.value;
  const n = (v: number | undefined, unit = "") => (v === undefined ? "-" : `${Math.round(v)}${unit}`);
  const sva = await cli("boot-test", "--profile", "sva", "--tests", "warpdrive-sva");
  // The 6.12 figures are read even when another test of that suite failed: only its bench is wanted here.
  const dus = await cliAnyway("boot-test", "--tests", "warpdrive");
  console.log("\nWarpDrive with SVA: requests per second (p50 in us), one run each");
  console.log("| size | in flight | SVA zero copy (7.2) | AF_ALG in the same run (7.2: CPU) | SVA/AF_ALG | 6.12 DUS copy queue | AF_ALG 6.12 (device) |");
  console.log("| --- | --- | --- | --- | --- | --- | --- |");
  for (const size of ["64B", "4KiB", "64KiB"]) {
    for (const qd of [1, 8]) {
      const sv = metric(sva, `sva.qd${qd}.${size}.req_per_s`);
      const af = metric(sva, `af_alg.qd${qd}.${size}.req_per_s`);
      // the 6.12 bench names its figures without a depth when it ran one request at a time
      const du = metric(dus, `user_queue.qd${qd}.${size}.req_per_s`) ?? (qd === 1 ? metric(dus, `user_queue.${size}.req_per_s`) : undefined);
      const da = metric(dus, `af_alg.qd${qd}.${size}.req_per_s`) ?? (qd === 1 ? metric(dus, `af_alg.${size}.req_per_s`) : undefined);
      const p50 = metric(sva, `sva.qd${qd}.${size}.p50_us`);
      console.log(`| ${size} | ${qd} | ${n(sv)} (${n(p50)}) | ${n(af)} | ${sv && af ? (sv / af).toFixed(2) : "-"} | ${n(du)} | ${n(da)} |`);
      rows.push([`SVA ${size} qd${qd}`, `${n(sv)} req/s`, `DUS ${n(du)} req/s`, `AF_ALG ${n(af)} req/s (7.2, CPU)`]);
    }
  }
  const one = metric(sva, "sva.procs1.64B.req_per_s");
  for (const k of [1, 2, 4]) {
    const agg = metric(sva, `sva.procs${k}.64B.req_per_s`);
    const ratio = agg && one ? (agg / one).toFixed(2) : "-";
    console.log(`${k} process(es) on one device, 64 B: ${n(agg)} req/s aggregate (${ratio}x one process)`);
    rows.push([`SVA ${k} process(es) at once, 64 B`, `${n(agg)} req/s`, "-", k === 4 ? `>= 3x one process (${ratio}x)` : `${ratio}x one process`]);
  }
}

// ---- QEMU built by the harness (qemu/virt-smmuv3-sva.yaml): cold build, one-file rebuild, a cached run,
// and boot and WarpDrive figures on it next to Debian's 7.2 binary, in the same session.
async function qemuRows() {
  const job = resolveJob({ profile: "sva-emulation" });
  const q = job.qemu!;
  if (!skipCold) {
    // Cold: an empty cache (source fetch, configure, build, no ccache hits), the default series.
    const savedCache = process.env.WDH_CACHE_DIR;
    process.env.WDH_CACHE_DIR = mkdtempSync(join(cacheDir("bench"), "qemu-cold-"));
    try {
      const [ms] = await timed(async () => {
        const tree = (await prepareQemuTree(q.source, deps)).output!;
        const patches = [];
        for (const spec of q.series) patches.push(...(await materializeSeries(spec, { loreUrl: "", offline: true }, deps)).patches);
        const applied = await applySeries(
          { treeDir: tree.path, managed: true, baseCommit: tree.baseCommit, patches, logFile: join(process.env.WDH_CACHE_DIR!, "series.log") },
          deps,
        );
        const b = await buildQemu(
          {
            treeDir: tree.path,
            state: applied.output!.state,
            configure: q.def.configure,
            devices: devicesFor(job.machine, q.def),
            extraTargets: [],
            ccache: true,
            buildDir: qemuBuildDirFor(tree.path, true),
            logFile: join(process.env.WDH_CACHE_DIR!, "build.log"),
          },
          deps,
        );
        if (b.status !== "pass") throw new Error(`cold QEMU build failed: ${b.reason}`);
      });
      row("cold QEMU build (fetch + configure + build)", ms, undefined, "<= 8 min");
    } finally {
      rmSync(process.env.WDH_CACHE_DIR!, { recursive: true, force: true });
      if (savedCache === undefined) delete process.env.WDH_CACHE_DIR;
      else process.env.WDH_CACHE_DIR = savedCache;
    }
  }
  const warm = await cli("boot-test", "--profile", "sva-emulation");
  const cached = await cli("boot-test", "--profile", "sva-emulation");
  const qemuStages = (r: { results: { timings: Record<string, number> } }) =>
    ["qemu-source", "qemu-series", "qemu-build", "qemu-check"].reduce((n, st) => n + (r.results.timings[st] ?? 0), 0);
  row("run whose QEMU is cached (QEMU stages)", qemuStages(cached), undefined, "<= 1 s");
  // one file touched in the harness's QEMU tree: ninja rebuilds that object and links
  const manifest = JSON.parse(readFileSync(join(warm.runDir, "manifest.json"), "utf8")) as { qemu: { path: string } };
  const smmu = join(manifest.qemu.path, "hw/arm/smmuv3.c");
  const original = readFileSync(smmu, "utf8");
  try {
    appendFileSync(smmu, "/* bench edit */\n");
    const tree = manifest.qemu.path;
    const state = await treeState(exec, tree);
    const [ms, b] = await timed(() =>
      buildQemu(
        {
          treeDir: tree,
          state,
          configure: q.def.configure,
          devices: devicesFor(job.machine, q.def),
          extraTargets: [],
          ccache: true,
          buildDir: qemuBuildDirFor(tree, true),
          logFile: join(cacheDir("bench"), "qemu-touch.log"),
        },
        deps,
      ),
    );
    if (b.status !== "pass") throw new Error(`QEMU rebuild failed: ${b.reason}`);
    row("QEMU rebuild after touching hw/arm/smmuv3.c", ms, undefined, "<= 30 s");
  } finally {
    writeFileSync(smmu, original);
  }
  await cli("boot-test", "--profile", "sva-emulation"); // back to the clean QEMU
  const built = await repeatN(() => cli("boot-test", "--profile", "sva-emulation", "--tests", "baseline"));
  const stock = await repeatN(() => cli("boot-test", "--tests", "baseline"));
  const b = median(built.map((r) => r.results.timings.bootToSshMs));
  const d = median(stock.map((r) => r.results.timings.bootToSshMs));
  row("boot to SSH: built QEMU 10.2.2+series", b, d, `within 10 % of Debian 7.2 (by hand column; ${(((b - d) / d) * 100).toFixed(1)} %)`);
  const metric = (r: { results: { tests: { name: string; metrics?: Record<string, { value: number }> }[] } }, key: string) =>
    r.results.tests.find((t) => t.name === "bench")?.metrics?.[key]?.value;
  const stockFull = await cli("boot-test");
  for (const size of ["64B", "4KiB"]) {
    const fig = (r: typeof cached) =>
      `user queue ${metric(r, `user_queue.qd1.${size}.req_per_s`)} req/s, AF_ALG ${metric(r, `af_alg.qd1.${size}.req_per_s`)} req/s (p50 ${metric(r, `speedup_p50.qd1.${size}`)}x lower)`;
    console.log(`${size}: built QEMU: ${fig(cached)}; Debian 7.2: ${fig(stockFull)}`);
    rows.push([`WarpDrive bench ${size}`, fig(cached), fig(stockFull), "harness = built QEMU, by hand = Debian 7.2"]);
  }
}

// ---- The machine's QEMU built cold twice in one session, with only the machine's devices and with all of
// QEMU's defaults for the target: the same tree and series (fetched and applied once, not timed), each
// build in an empty build dir with an empty ccache, so neither helps the other.
async function qemuColdRows() {
  const job = resolveJob({ profile: "sva-emulation" });
  const q = job.qemu!;
  const tree = (await prepareQemuTree(q.source, deps)).output!;
  const patches = [];
  for (const spec of q.series) patches.push(...(await materializeSeries(spec, { loreUrl: "", offline: true }, deps)).patches);
  const applied = await applySeries(
    { treeDir: tree.path, managed: true, baseCommit: tree.baseCommit, patches, logFile: join(cacheDir("bench"), "series.log") },
    deps,
  );
  const savedCcache = process.env.CCACHE_DIR;
  for (const devices of ["machine", "all"] as const) {
    const dir = mkdtempSync(join(cacheDir("bench"), `qemu-cold-${devices}-`));
    process.env.CCACHE_DIR = join(dir, "ccache");
    try {
      const input = {
        treeDir: tree.path,
        state: applied.output!.state,
        configure: q.def.configure,
        devices: devicesFor(job.machine, { ...q.def, devices }),
        extraTargets: [],
        ccache: true,
        buildDir: join(dir, "build"),
        logFile: join(dir, "build.log"),
      };
      const [ms, b] = await timed(() => buildQemu(input, deps));
      if (b.status !== "pass") throw new Error(`cold QEMU build (${devices}) failed: ${b.reason}`);
      const steps = /\[(\d+)\/(\d+)\]/g;
      let total = 0;
      for (const m of readFileSync(input.logFile, "utf8").matchAll(steps)) total = Number(m[2]);
      const what = devices === "machine" ? `only the machine's devices (${input.devices!.symbols.length} symbols)` : "all default devices";
      row(`cold QEMU build (configure + ninja), ${what}: ${total} ninja steps`, ms, undefined, "minimal a fraction of all");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  if (savedCcache === undefined) delete process.env.CCACHE_DIR;
  else process.env.CCACHE_DIR = savedCcache;
}

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
    execa(
      "ssh",
      [
        "-q",
        "-i",
        join(runDir, "id_ed25519"),
        "-p",
        String(port),
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "ConnectTimeout=2",
        "root@127.0.0.1",
        cmd,
      ],
      { reject: false },
    );
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

// ---- The one-process WarpDrive queue (default profile, 6.12 + patches/warpdrive-virtio on Debian's QEMU 7.2)
// against AF_ALG on the other virtio-crypto device of the same QEMU backend, like for like: the guest
// benchmark gives both the same warm-up and request counts, clears and checks every destination, and
// measures one request at a time and 8 in flight. p50 is the headline; CPU time per request says what the
// polling costs. Figures come from one run's results.json: emulated timing says nothing about hardware.
async function warpdriveRows() {
  const r = await cliAnyway("boot-test", "--tests", "warpdrive");
  const metric = (key: string): number | undefined =>
    (r.results.tests as { name: string; metrics?: Record<string, { value: number }> }[]).find((t) => t.name === "bench")?.metrics?.[key]?.value;
  const f = (v: number | undefined, d = 0) => (v === undefined ? "-" : v.toFixed(d));
  console.log(`\nWarpDrive (one process, no SVA): user queue (ring ${f(metric("user_queue.ring_entries"))}) vs AF_ALG (ring 1024, fixed by QEMU 7.2), one run`);
  console.log(
    "| size | in flight | user queue p50 us | AF_ALG p50 us | p50 ratio | user queue req/s | AF_ALG req/s | req/s ratio | CPU us/req user queue | CPU us/req AF_ALG |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const size of ["64B", "4KiB"]) {
    for (const qd of [1, 8]) {
      const m = (path: string, fig: string) => metric(`${path}.qd${qd}.${size}.${fig}`);
      const up = m("user_queue", "p50_us"),
        ap = m("af_alg", "p50_us");
      const ur = m("user_queue", "req_per_s"),
        ar = m("af_alg", "req_per_s");
      console.log(
        `| ${size} | ${qd} | ${f(up, 1)} | ${f(ap, 1)} | ${up && ap ? (ap / up).toFixed(2) : "-"} | ${f(ur)} | ${f(ar)} | ${ur && ar ? (ur / ar).toFixed(2) : "-"} | ${f(m("user_queue", "cpu_us_per_req"), 1)} | ${f(m("af_alg", "cpu_us_per_req"), 1)} |`,
      );
      rows.push([`WarpDrive ${size} qd${qd}: p50 user queue / AF_ALG`, `${f(up, 1)} us`, `${f(ap, 1)} us`, qd === 1 && size === "64B" ? ">= 3x lower" : "-"]);
    }
    console.log(
      `${size} one request: prepare ${f(metric(`user_queue.qd1.${size}.prepare_p50_us`), 1)} us, doorbell ${f(metric(`user_queue.qd1.${size}.doorbell_p50_us`), 1)} us, wait ${f(metric(`user_queue.qd1.${size}.wait_p50_us`), 1)} us (p50)`,
    );
  }
}
