// The subprocess door on real processes: process groups die whole, failures carry their context.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { InterruptedError, ToolMissingError } from "./errors.ts";
import { createExec, ExecError } from "./exec.ts";

const dir = mkdtempSync(join(tmpdir(), "wdh-exec-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const exec = createExec({ logFile: join(dir, "harness.log") });

/** Running, as opposed to gone or a zombie waiting for a reaper. */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

describe("exec", () => {
  it("logs the command line and its output", async () => {
    await exec("echo", ["hello", "two words"]);
    expect(readFileSync(join(dir, "harness.log"), "utf8")).toMatch(/\$ echo hello 'two words'\nhello two words\n# exit 0/);
  });

  it("throws an ExecError with the exit code and the output's tail, or returns it when allowed", async () => {
    const err = await exec("sh", ["-c", "echo broken >&2; exit 3"]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecError);
    expect((err as ExecError).result.exitCode).toBe(3);
    expect((err as ExecError).details).toEqual(["broken"]);
    expect((await exec("sh", ["-c", "exit 3"], { allowFailure: true })).exitCode).toBe(3);
  });

  it("names a missing tool", async () => {
    await expect(exec("no-such-tool-wdh", [])).rejects.toBeInstanceOf(ToolMissingError);
  });

  it("kills the whole process group on abort, grandchildren included", async () => {
    const controller = new AbortController();
    const pidFile = join(dir, "grandchild.pid");
    const run = exec("sh", ["-c", `sleep 60 & echo $! > ${pidFile}; wait`], { signal: controller.signal });
    await new Promise((r) => setTimeout(r, 300));
    const grandchild = Number(readFileSync(pidFile, "utf8"));
    expect(alive(grandchild)).toBe(true);
    controller.abort();
    await expect(run).rejects.toBeInstanceOf(InterruptedError);
    await new Promise((r) => setTimeout(r, 100));
    expect(alive(grandchild)).toBe(false);
  });

  it("kills a command that outlives its timeout", async () => {
    const started = performance.now();
    await expect(exec("sleep", ["30"], { timeoutMs: 300 })).rejects.toThrow(/timed out after 300 ms/);
    expect(performance.now() - started).toBeLessThan(5000);
  });
});
