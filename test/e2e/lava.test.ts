// The default machine through LAVA, end to end from the command line: `boot-test --executor lava` runs
// the job with Debian's lava-run (real dispatcher, real QEMU, SMMUv3 in the guest) and must agree with
// the local executor test by test; then the same command against a lab on 127.0.0.1 (REST API v0.2)
// with a fake LAVA_TOKEN, which must appear in no file of the run folder and nowhere in the output.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../harness/lib/paths.ts";
import { BUILDS, cli, type CliRun, cliWithEnv, COLD_KERNEL, runJson } from "./cli.ts";

const results = (run: CliRun) => runJson(run.runDir, "results.json");
const statuses = (run: CliRun) => results(run).tests.map((t: { suite: string; name: string; status: string }) => `${t.suite}/${t.name}:${t.status}`);
const stageMs = (run: CliRun, id: string) =>
  results(run)
    .stages.filter((s: { stage: string }) => ["boot", "ssh", "guest", "shutdown"].includes(s.stage) && (id === "*" || s.stage === id))
    .reduce((a: number, s: { durationMs: number }) => a + s.durationMs, 0);

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? filesUnder(join(dir, f)) : [join(dir, f)]));
}

describe.skipIf(!existsSync("/usr/bin/lava-run"))("the default machine through LAVA", () => {
  it("lava-run: baseline passes with the same tests and statuses as the local executor, within 20 s of it", COLD_KERNEL, async () => {
    const local = await cli("boot-test", "--tests", "baseline");
    expect(local.exitCode, local.output).toBe(0);
    const lava = await cliWithEnv({ WDH_LAVA_MODE: "local" }, "boot-test", "--tests", "baseline", "--executor", "lava");
    expect(lava.exitCode, lava.output).toBe(0);
    expect(statuses(lava)).toEqual(statuses(local));
    expect(statuses(lava)).toEqual(["baseline/smmu-probed:pass", "baseline/iommu-groups:pass", "baseline/aes-cbc-kat:pass", "baseline/kernel-log-clean:pass"]);
    const r = results(lava);
    expect(r.status).toBe("pass");
    expect(r.machine?.executor ?? runJson(lava.runDir, "manifest.json").executor).toBe("lava");
    // the same evidence as a local run: the console (SMMUv3 probed), each test's TAP and kernel log
    expect(readFileSync(join(lava.runDir, "console.log"), "utf8")).toMatch(/arm-smmu-v3 9050000\.smmuv3: ias \d+-bit/);
    expect(r.tests[0].output).toMatch(/^ok 1 /m);
    expect(r.tests[0].kernelLog).toEqual(expect.any(Array));
    for (const f of ["lava/job.yaml", "lava/device.yaml", "lava/lava.log", "results.json", "junit.xml", "kcidb.json", "reproduce.sh"])
      expect(existsSync(join(lava.runDir, f)), f).toBe(true);
    // the target: the guest part through lava-run adds at most 20 s to the same run locally
    const [l, v] = [stageMs(local, "*"), stageMs(lava, "*")];
    process.stdout.write(
      `boot+tests: local ${(l / 1000).toFixed(1)} s, lava-run ${(v / 1000).toFixed(1)} s; whole command: local ${(local.ms / 1000).toFixed(1)} s, lava ${(lava.ms / 1000).toFixed(1)} s\n`,
    );
    expect(v - l).toBeLessThan(20_000);
  });
});

describe.skipIf(!existsSync("/usr/bin/lava-run"))("a bisection over LAVA", () => {
  it("--executor lava --runs 3: each point's first run builds, the other two run as lab jobs at once; the third patch of four is named", BUILDS, async () => {
    const series = join(repoRoot, "test/fixtures/series/bisect-panic");
    const run = await cliWithEnv(
      { WDH_LAVA_MODE: "local" },
      "bisect",
      "--series",
      series,
      "--hunt",
      "boot",
      "--tests",
      "baseline",
      "--quiet",
      "--executor",
      "lava",
      "--runs",
      "3",
    );
    expect(run.exitCode, run.output).toBe(0);
    const r = results(run);
    expect(r.status).toBe("found");
    expect(r.firstBad.subject).toBe("crypto: virtio - store through a NULL pointer at probe (test fixture)");
    for (const step of r.steps as { role: string; verdict: string; outcomes: { runDir: string; durationMs: number }[] }[]) {
      // every point booted, so it ran three times (a parallel batch does not stop at two failures)
      expect(step.outcomes.length, `${step.role} ${step.verdict}`).toBe(3);
      const spans = step.outcomes.map((o) => {
        const m = runJson(o.runDir, "manifest.json");
        expect(m.executor).toBe("lava");
        const start = Date.parse(m.startedAt);
        return [start, start + o.durationMs] as const;
      });
      // the second and third runs overlap in time; the first ended before they began
      const [first, second, third] = spans;
      expect(second![0]).toBeGreaterThanOrEqual(first![1] - 1000);
      expect(Math.max(second![0], third![0])).toBeLessThan(Math.min(second![1], third![1]));
    }
  });
});

const TOKEN = "fake-LAVA_TOKEN-e2e-5b0d13c9a7";
const servers: Server[] = [];
afterAll(() => servers.forEach((s) => (s.closeAllConnections(), s.close())));

/** A lab that runs nothing: every job goes Submitted → Running → Complete with a saved lava-run log of baseline. */
async function fakeLab() {
  const log =
    readFileSync(join(repoRoot, "test/fixtures/lava/lava-run-baseline-pass.log"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => `- ${l}`)
      .join("\n") + "\n";
  let polls = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const json = (code: number, v: unknown) => (res.writeHead(code, { "Content-Type": "application/json" }), res.end(JSON.stringify(v)));
      if (req.headers.authorization !== `Token ${TOKEN}`) return json(401, { detail: "Invalid token." });
      if (req.method === "POST") return json(201, { job_ids: [5] });
      if (req.url === "/api/v0.2/jobs/5/")
        return json(200, { id: 5, state: ["Submitted", "Running", "Finished"][Math.min(polls++, 2)], health: polls > 2 ? "Complete" : "Unknown" });
      if (req.url!.startsWith("/api/v0.2/jobs/5/logs/")) return (res.writeHead(200), res.end(log));
      json(404, {});
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("a remote lab's token", () => {
  it("a REST-lab run against a lab on 127.0.0.1 passes, and the fake LAVA_TOKEN is in no file of the run folder, no log and not in the output", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wdh-lava-e2e-"));
    writeFileSync(join(dir, "lava.yaml"), "pollSeconds: 0.2\n");
    const url = await fakeLab();
    const env = {
      LAVA_URL: url,
      LAVA_TOKEN: TOKEN,
      WDH_LAVA_CONFIG: join(dir, "lava.yaml"),
      WDH_LAVA_UPLOAD: `cp "$WDH_FILE" ${dir}/"$WDH_NAME"`,
      WDH_LAVA_URL_PREFIX: `file://${dir}`,
    };
    const run = await cliWithEnv(env, "boot-test", "--tests", "baseline", "--executor", "lava");
    expect(run.exitCode, run.output).toBe(0);
    expect(run.output).toMatch(/LAVA job 5 submitted/);
    const files = filesUnder(run.runDir);
    expect(files.length).toBeGreaterThan(5);
    expect(files.filter((f) => readFileSync(f).includes(TOKEN))).toEqual([]);
    expect(filesUnder(dir).filter((f) => readFileSync(f).includes(TOKEN))).toEqual([]);
    expect(run.output).not.toContain(TOKEN);
  });
});
