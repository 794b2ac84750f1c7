// The LAVA executor over a lab on 127.0.0.1 (submit, states, log, cancel) and over saved logs: the same
// verdicts, kinds and evidence as a local run, and the token in no file, message or progress line.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { UsageError } from "../../lib/errors.ts";
import { createExec } from "../../lib/exec.ts";
import { repoRoot } from "../../lib/paths.ts";
import type { MachineDef } from "../../config/schema.ts";
import type { GuestTest } from "../../stages/guest/suites.ts";
import type { GuestJob } from "../types.ts";
import { lavaSettings } from "./config.ts";
import { createLavaExecutor } from "./index.ts";
import { parseLavaLog } from "./log.ts";
import { writeNewc, S_IFREG } from "./ramdisk.ts";
import { guestRunFromLog } from "./results.ts";

const TOKEN = "fake-LAVA_TOKEN-7f3a9c21e8d04b6f";
const fixtureLog = readFileSync(join(repoRoot, "test/fixtures/lava/lava-run-baseline-pass.log"), "utf8");
const baseline: GuestTest[] = [
  ["smmu-probed", "sh", "smmu-probed.sh", 20],
  ["iommu-groups", "sh", "iommu-groups.sh", 20],
  ["aes-cbc-kat", "./aes-cbc-kat", "", 30],
  ["kernel-log-clean", "sh", "kernel-log-clean.sh", 20],
].map(([name, a, b, t]) => ({
  suite: "baseline",
  name: name as string,
  guestPath: `/opt/wdh/baseline/${name}`,
  command: [a as string, ...(b ? [b as string] : [])],
  timeoutSeconds: t as number,
}));

type Health = "Complete" | "Incomplete" | "Canceled";
/** A lab: Submitted → Running → Finished(health); serves `log` as a YAML list; records every request. */
async function fakeLab(opts: { health?: Health; log?: string; submitStatus?: number; runForever?: boolean }) {
  const seen: { url: string; auth?: string; body: string }[] = [];
  let polls = 0;
  let canceled = false;
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      seen.push({ url: req.url!, auth: req.headers.authorization, body });
      const json = (code: number, v: unknown) => (res.writeHead(code, { "Content-Type": "application/json" }), res.end(JSON.stringify(v)));
      if (req.headers.authorization !== `Token ${TOKEN}`) return json(401, { detail: "Invalid token." });
      if (req.method === "POST") return opts.submitStatus ? json(opts.submitStatus, { detail: "down" }) : json(201, { job_ids: [77] });
      if (req.url === "/api/v0.2/jobs/77/cancel/") return ((canceled = true), json(200, {}));
      if (req.url === "/api/v0.2/jobs/77/") {
        const states = [
          ["Submitted", "Unknown"],
          ["Running", "Unknown"],
          ["Finished", opts.health ?? "Complete"],
        ] as const;
        const [state, health] = canceled ? ["Finished", "Canceled"] : opts.runForever ? ["Running", "Unknown"] : states[Math.min(polls++, 2)]!;
        return json(200, { id: 77, state, health, failure_comment: health === "Incomplete" ? "lava-test-shell timed out" : null });
      }
      if (req.url!.startsWith("/api/v0.2/jobs/77/logs/")) {
        const text =
          (opts.log ?? fixtureLog)
            .split("\n")
            .filter(Boolean)
            .map((l) => `- ${l}`)
            .join("\n") + "\n";
        return (res.writeHead(200, { "Content-Type": "application/yaml" }), res.end(text));
      }
      if (req.url!.startsWith("/api/v0.2/jobs/77/tests/")) return json(200, { next: null, results: [] });
      json(404, {});
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, canceled: () => canceled };
}
const servers: Server[] = [];
afterEach(() => servers.splice(0).forEach((s) => (s.closeAllConnections(), s.close())));

const machine = {
  name: "virt-smmuv3",
  executor: "lava",
  binary: "qemu-system-aarch64",
  globals: {},
  machine: "virt,iommu=smmuv3,gic-version=3",
  accel: "tcg",
  cpu: "cortex-a57",
  smp: 2,
  memory: "1024M",
  append: ["console=ttyAMA0"],
  network: { driver: "virtio-net-pci", options: { addr: "0x1" } },
  devices: [],
} as unknown as MachineDef;

function jobIn(dir: string, tests = baseline): GuestJob {
  const file = (name: string, data: string) => ({
    name,
    mode: S_IFREG | 0o644,
    uid: 0,
    gid: 0,
    nlink: 1,
    mtime: 0,
    devmajor: 0,
    devminor: 0,
    rdevmajor: 0,
    rdevminor: 0,
    data: Buffer.from(data),
  });
  writeFileSync(join(dir, "Image"), "not really a kernel");
  writeFileSync(join(dir, "initramfs.cpio"), writeNewc([file("init", "#!/bin/sh\n"), file("bin/sh", "busybox")]));
  const runDir = join(dir, "run");
  mkdirSync(runDir);
  return {
    kernel: { image: join(dir, "Image") },
    initramfs: join(dir, "initramfs.cpio"),
    machine,
    append: ["virtio_crypto.uacce_devices=0000:00:03.0"],
    tests,
    timeouts: { bootMs: 120_000, connectMs: 30_000, testScale: 1 },
    runDir: { id: "test-run", file: (n: string) => join(runDir, n) },
  };
}

function remoteEnv(lab: string, dir: string) {
  const served = join(dir, "served");
  mkdirSync(served);
  writeFileSync(join(dir, "lava.yaml"), "pollSeconds: 0.05\n");
  return {
    LAVA_URL: lab,
    LAVA_TOKEN: TOKEN,
    WDH_LAVA_UPLOAD: `cp "$WDH_FILE" ${served}/"$WDH_NAME"`,
    WDH_LAVA_URL_PREFIX: `file://${served}`,
    WDH_LAVA_CONFIG: join(dir, "lava.yaml"),
    WDH_CACHE_DIR: join(dir, "cache"),
  };
}

function deps(signal = new AbortController().signal) {
  const progress: string[] = [];
  return { deps: { exec: createExec(), signal, progress: (m: string) => progress.push(m) }, progress };
}

const executorFor = (env: Record<string, string>) => createLavaExecutor({ env: () => env, home: "/nonexistent", client: { retryDelayMs: 1, timeoutMs: 2000 } });

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? filesUnder(join(dir, f)) : [join(dir, f)]));
}

describe("the LAVA executor against a lab on 127.0.0.1", () => {
  it("submits, waits with progress, reads the log back: baseline passes as it did locally; the token is in no file and no progress line", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wdh-lava-exec-"));
    const lab = await fakeLab({});
    const env = remoteEnv(lab.url, dir);
    process.env.WDH_CACHE_DIR = env.WDH_CACHE_DIR;
    const { deps: d, progress } = deps();
    const r = await executorFor(env).run(jobIn(dir), d);
    expect(r.status, r.reason).toBe("pass");
    expect(r.output.tests.map((t) => `${t.name}:${t.status}`)).toEqual(baseline.map((t) => `${t.name}:pass`));
    expect(r.output.tests[0]!.tap?.points.length).toBe(3);
    expect(r.output.stages.map((s) => `${s.stage}:${s.status}`)).toEqual(["boot:pass", "guest:pass", "shutdown:pass"]);
    expect(r.output.argv).toEqual(["lavacli", "--uri", `${lab.url}/RPC2`, "jobs", "submit", join(dir, "run", "lava", "job.yaml")]);
    expect(progress.some((p) => /LAVA job 77: Running/.test(p))).toBe(true);
    // what the lab was asked to fetch: the uploaded copies, by URL
    const submitted = JSON.parse(lab.seen.find((s) => s.url === "/api/v0.2/jobs/")!.body).definition as string;
    expect(submitted).toMatch(new RegExp(`url: file://${dir}/served/[0-9a-f]{24}-Image`));
    expect(readdirSync(join(dir, "served")).length).toBe(2);
    // the token: only ever in the Authorization header
    expect(lab.seen.every((s) => s.auth === `Token ${TOKEN}` && !s.url.includes(TOKEN) && !s.body.includes(TOKEN))).toBe(true);
    const leaks = filesUnder(dir).filter((f) => readFileSync(f).includes(TOKEN));
    expect(leaks).toEqual([]);
    expect(JSON.stringify({ r, progress })).not.toContain(TOKEN);
    expect(readFileSync(join(dir, "run", "console.log"), "utf8")).toMatch(/arm-smmu-v3 9050000\.smmuv3/);
    expect(JSON.parse(readFileSync(join(dir, "run", "lava", "job.json"), "utf8"))).toEqual({ lab: lab.url, id: 77, url: `${lab.url}/scheduler/job/77` });
  });

  it("a lab that fails the submit is infrastructure (exit 3), the tests not run", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wdh-lava-exec-"));
    const lab = await fakeLab({ submitStatus: 503 });
    const r = await executorFor(remoteEnv(lab.url, dir)).run(jobIn(dir), deps().deps);
    expect(r).toMatchObject({ status: "fail", stage: "boot", kind: "infrastructure" });
    expect(r.reason).toMatch(/503/);
    expect(r.output.tests.every((t) => t.status === "skip")).toBe(true);
  });

  it("a job canceled on the lab is infrastructure; Ctrl-C cancels the job and is an interruption", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wdh-lava-exec-"));
    const canceledLab = await fakeLab({ health: "Canceled" });
    const env = { ...remoteEnv(canceledLab.url, dir) };
    const r1 = await createLavaExecutor({ env: () => ({ ...env }), client: { retryDelayMs: 1 } }).run(jobIn(dir), deps().deps);
    expect(r1).toMatchObject({ status: "fail", kind: "infrastructure" });
    expect(r1.reason).toMatch(/canceled on the lab/);

    const dir2 = mkdtempSync(join(tmpdir(), "wdh-lava-exec-"));
    const running = await fakeLab({ runForever: true });
    const controller = new AbortController();
    const env2 = remoteEnv(running.url, dir2);
    const d2 = deps(controller.signal).deps;
    // Ctrl-C once the job runs on the lab
    const r2 = await executorFor(env2).run(jobIn(dir2), {
      ...d2,
      progress: (m: string) => void (/: Running/.test(m) && setTimeout(() => controller.abort(), 50)),
    });
    expect(r2).toMatchObject({ status: "fail", kind: "interrupted" });
    expect(running.canceled()).toBe(true);
  });
});

describe("a LAVA log judged like a local run", () => {
  const lines = fixtureLog.split("\n");
  const at = lines.findIndex((l) => l.includes("wdh: test-begin baseline/aes-cbc-kat"));
  const target = (msg: string) => JSON.stringify({ dt: "2026-12-01T16:57:08.5", lvl: "target", msg });
  const opts = { tests: baseline, testScale: 1, argv: ["lava-run"], consoleLog: "console.log", reproduce: [], startedAt: performance.now() };

  it("an incomplete job whose kernel died in a test: regression with the crash, that test failed, the rest not run", () => {
    const oops = [
      "[    3.40] Unable to handle kernel NULL pointer dereference at virtual address 0000000000000008",
      "[    3.40] Internal error: Oops: 0000000096000004 [#1] PREEMPT SMP",
      "[    3.40] CPU: 1 UID: 0 PID: 90 Comm: aes-cbc-kat Not tainted 6.12.117 #1",
      "[    3.40] pc : virtio_crypto_skcipher_encrypt+0x20/0x1c0",
      "[    3.40] lr : crypto_skcipher_encrypt+0x3c/0x60",
      "[    3.40] Call trace:",
      "[    3.40]  virtio_crypto_skcipher_encrypt+0x20/0x1c0",
      "[    3.40]  crypto_skcipher_encrypt+0x3c/0x60",
      "[    3.40]  skcipher_recvmsg+0x2a0/0x3e0",
      "[    3.40] Code: 910003fd f9000bf3 aa0003f3 f9400400 (f9400400)",
      "[    3.40] ---[ end trace 0000000000000000 ]---",
      "[    3.41] Kernel panic - not syncing: Oops: Fatal exception",
    ].map(target);
    const job = JSON.stringify({
      lvl: "results",
      msg: { case: "job", definition: "lava", result: "fail", error_msg: "lava-test-shell timed out", error_type: "Test" },
    });
    const log = parseLavaLog([...lines.slice(0, at + 1), ...oops, job].join("\n"));
    const { run, stages } = guestRunFromLog(log, { ...opts, end: { health: "Incomplete" } });
    const guest = stages.find((s) => s.stage === "guest")!;
    expect(guest).toMatchObject({ status: "fail", signature: { type: "crash", kind: "oops" } });
    expect(guest.kind).toBeUndefined(); // a regression (exit 1)
    expect(guest.reason).toMatch(/aes-cbc-kat: the kernel died: .*NULL pointer/);
    expect(run.tests.map((t) => t.status)).toEqual(["pass", "pass", "fail", "skip"]);
    expect(run.tests[3]!.reason).toBe("not run (the kernel died in baseline/aes-cbc-kat)");
    expect(run.tests[2]).toMatchObject({ kernelDied: true });
  });

  it("LAVA could not boot anything (download failed, no console): infrastructure", () => {
    const log = parseLavaLog(
      [
        lines[0],
        JSON.stringify({
          lvl: "results",
          msg: { case: "job", definition: "lava", result: "fail", error_msg: "Unable to fetch http://x/Image: 404", error_type: "Infrastructure" },
        }),
      ].join("\n"),
    );
    const { stages, run } = guestRunFromLog(log, { ...opts, end: { health: "Incomplete" } });
    expect(stages[0]).toMatchObject({ stage: "boot", status: "fail", kind: "infrastructure" });
    expect(stages[0]!.reason).toMatch(/Unable to fetch/);
    expect(run.tests.every((t) => t.status === "skip")).toBe(true);
  });

  it("a test that fails its TAP point fails with its reason, as over SSH", () => {
    const tampered = fixtureLog
      .replace('"    ok 2 - /sys/class/iommu has the SMMUv3', '"    not ok 2 - /sys/class/iommu has the SMMUv3')
      .replace("smmu-probed#62 rc=0", "smmu-probed#62 rc=1");
    const { run, stages } = guestRunFromLog(parseLavaLog(tampered), { ...opts, end: { health: "Complete" } });
    expect(run.tests[0]).toMatchObject({ status: "fail" });
    expect(stages.find((s) => s.stage === "guest")).toMatchObject({ status: "fail", signature: { type: "tests", failed: ["baseline/smmu-probed"] } });
  });
});

describe("LAVA settings", () => {
  it("local by default; a lab URL makes it remote, which needs a URL prefix; the token stays out of the settings' config", () => {
    const home = mkdtempSync(join(tmpdir(), "wdh-lava-home-"));
    expect(lavaSettings({}, home).mode).toBe("local");
    expect(() => lavaSettings({ LAVA_URL: "https://lab", LAVA_TOKEN: TOKEN }, home)).toThrow(UsageError);
    const file = join(home, "lava.yaml");
    writeFileSync(
      file,
      `url: https://lab.example.org\ntoken: ${TOKEN}\nurlPrefix: https://files.example.org/wdh\nupload: rsync "$WDH_FILE" files:/srv/wdh/"$WDH_NAME"\n`,
    );
    const s = lavaSettings({ WDH_LAVA_CONFIG: file }, home);
    expect(s).toMatchObject({
      mode: "remote",
      lab: { url: "https://lab.example.org", token: TOKEN },
      artifacts: { urlPrefix: "https://files.example.org/wdh" },
    });
    expect(JSON.stringify(s.config)).not.toContain(TOKEN);
    expect(lavaSettings({ WDH_LAVA_CONFIG: file, WDH_LAVA_MODE: "local" }, home).mode).toBe("local");
  });
});

describe("a board in a lab", () => {
  it("profiles/kunpeng920-sva: the d06 machine is a LAVA board job (TFTP + GRUB, append as extra_kernel_args, no QEMU context); local mode refuses it", async () => {
    const { resolveJob } = await import("../../config/resolve.ts");
    const { lavaJob } = await import("./job.ts");
    const { lavaMachineOf } = await import("./machine.ts");
    const job = resolveJob({ profile: "kunpeng920-sva" });
    expect(job.machine).toMatchObject({ executor: "lava", lava: { deviceType: "d06", bootMethod: "grub" } });
    const def = lavaJob({
      jobName: "x",
      machine: { ...lavaMachineOf(job.machine, job.append), extraOptions: [] },
      kernelUrl: "https://f/Image",
      ramdiskUrl: "https://f/r.gz",
      tests: [],
      deviceType: "d06",
      bootMethod: "grub",
    });
    expect(def).toMatchObject({ device_type: "d06", context: { extra_kernel_args: expect.stringContaining("console=ttyAMA0,115200") } });
    expect((def.actions as Record<string, unknown>[])[0]).toMatchObject({ deploy: { to: "tftp", kernel: { url: "https://f/Image", type: "image" } } });
    expect((def.actions as Record<string, unknown>[])[1]).toMatchObject({ boot: { method: "grub", commands: "ramdisk" } });
    const dir = mkdtempSync(join(tmpdir(), "wdh-lava-exec-"));
    const local = createLavaExecutor({ env: () => ({ WDH_LAVA_CONFIG: join(dir, "none.yaml") }), home: dir });
    await expect(local.run({ ...jobIn(dir), machine: job.machine }, deps().deps)).rejects.toThrow(/is a board .* needs a lab/);
  });
});
