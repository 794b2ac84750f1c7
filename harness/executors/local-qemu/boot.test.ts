// The local executor's boot paths that a real kernel rarely takes, on a scripted stand-in for QEMU (a real
// process, real console lines, the real timers): each ends with its own reason and failure kind, and no
// path leaves the stand-in running.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { loadYaml } from "../../config/load.ts";
import { MachineSchema, type MachineDef } from "../../config/schema.ts";
import { createExec } from "../../lib/exec.ts";
import { repoRoot } from "../../lib/paths.ts";
import type { Deps } from "../../lib/stage.ts";
import { bootGuest, type BootResult } from "./boot.ts";

const dir = mkdtempSync(join(tmpdir(), "wdh-boot-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => delete process.env.WDH_FAKE_SCENARIO);
// Marks the stand-ins this file starts (in their environment), so the check below finds only them.
const mark = `boot-test-${process.pid}`;
process.env.WDH_FAKE_MARK = mark;

// The default machine, its binary replaced by the stand-in: the argv is the one a real boot would use.
const machine: MachineDef = {
  ...loadYaml(MachineSchema, join(repoRoot, "qemu/virt-smmuv3.yaml")),
  binary: join(repoRoot, "test/fixtures/fake-console/qemu.sh"),
};

async function boot(scenario: string, bootTimeoutMs = 1500): Promise<BootResult & { ms: number }> {
  process.env.WDH_FAKE_SCENARIO = scenario;
  const deps: Deps = { exec: createExec(), signal: new AbortController().signal, progress: () => {} };
  const started = Date.now();
  const r = await bootGuest(
    { machine, kernel: "/nonexistent/Image", initrd: "/nonexistent/initramfs", consoleLog: join(dir, `${scenario}.log`), bootTimeoutMs },
    deps,
  );
  const ms = Date.now() - started;
  if (r.output) await r.output.shutdown();
  return { ...r, ms };
}

/** Whether a stand-in of this test file still runs (each boot must leave none): found by its environment. */
function standInsLeft(): boolean {
  return readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid)
    .some((p) => {
      try {
        return readFileSync(`/proc/${p}/environ`, "utf8").includes(`WDH_FAKE_MARK=${mark}`);
      } catch {
        return false; // gone meanwhile, or not ours to read
      }
    });
}

describe("bootGuest on a scripted QEMU", () => {
  it("an empty console: infrastructure at the boot timeout (QEMU never ran the kernel)", async () => {
    const r = await boot("empty");
    expect(r.status).toBe("fail");
    expect(r.kind).toBe("infrastructure");
    expect(r.reason).toBe("no ready marker within 1.5 s: the console stayed empty");
    expect(r.ms).toBeGreaterThanOrEqual(1400);
    expect(standInsLeft()).toBe(false);
  });

  it("QEMU exiting before the kernel speaks: infrastructure at once, with QEMU's command line and its words", async () => {
    const r = await boot("exits-early", 30_000);
    expect(r.status).toBe("fail");
    expect(r.kind).toBe("infrastructure");
    expect(r.reason).toBe("QEMU exited with 1 before the kernel printed anything");
    expect(r.details?.[0]).toMatch(/^\$ \S+qemu\.sh -machine \S*virt/);
    expect(r.ms).toBeLessThan(10_000); // not the 30 s timeout
    expect(readFileSync(join(dir, "exits-early.log"), "utf8")).toContain("is not a valid device model name");
  });

  it("a guest that boots and falls silent: a regression at the boot timeout, the console's tail as details", async () => {
    const r = await boot("silent");
    expect(r.status).toBe("fail");
    expect(r.kind).toBeUndefined(); // a kernel that never reached SSH is the kernel's failure
    expect(r.reason).toBe("no ready marker within 1.5 s (the guest never reached SSH)");
    expect(r.details?.join("\n")).toContain("Linux version 6.12.0");
    expect(standInsLeft()).toBe(false);
  });

  it("ready without a host key: fails, since there is no key to pin", async () => {
    const r = await boot("ready-no-key", 30_000);
    expect(r.status).toBe("fail");
    expect(r.reason).toBe("the guest said it was ready but printed no host key");
    expect(r.ms).toBeLessThan(10_000);
    expect(standInsLeft()).toBe(false);
  });

  it("ready with a host key: a live guest with that key, and shutdown stops QEMU", async () => {
    process.env.WDH_FAKE_SCENARIO = "ready";
    const deps: Deps = { exec: createExec(), signal: new AbortController().signal, progress: () => {} };
    const r = await bootGuest({ machine, kernel: "/k", initrd: "/i", consoleLog: join(dir, "ready.log"), bootTimeoutMs: 30_000 }, deps);
    expect(r.status).toBe("pass");
    expect(r.output!.hostKey).toMatch(/^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFake/);
    expect(standInsLeft()).toBe(true);
    await r.output!.shutdown();
    expect(await r.output!.ended).toMatchObject({ kind: "exited" });
    expect(standInsLeft()).toBe(false);
  });
});
