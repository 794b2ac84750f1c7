import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot } from "./paths.ts";
import { acquireLock, withLock } from "./lock.ts";

const dir = mkdtempSync(join(tmpdir(), "wdh-lock-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const child = (...args: string[]) => execa(process.execPath, ["--import", "tsx", join(repoRoot, "test/fixtures/lock/counter.ts"), ...args], { cwd: repoRoot });

/** Whether acquireLock(path) got the lock within ms (released at once if it did). */
async function takenWithin(path: string, ms: number): Promise<boolean> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), ms);
  try {
    (await acquireLock(path, { signal: abort.signal }))();
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

describe("locks", () => {
  it("makes a second holder wait until the first releases, and says it waits", async () => {
    const path = join(dir, "a.lock");
    const release = await acquireLock(path);
    const order: string[] = [];
    let waited = false;
    const second = withLock(path, async () => void order.push("second"), { onWait: () => (waited = true) });
    await new Promise((r) => setTimeout(r, 500));
    order.push("first done");
    release();
    release(); // releasing twice is harmless
    await second;
    expect(order).toEqual(["first done", "second"]);
    expect(waited).toBe(true);
  });

  it("a wait that is interrupted throws and leaves the lock to its holder", async () => {
    const path = join(dir, "b.lock");
    const release = await acquireLock(path);
    expect(await takenWithin(path, 300)).toBe(false);
    release();
    expect(await takenWithin(path, 5000)).toBe(true);
  });

  it("a holder killed with SIGKILL (no exit hook runs) leaves no lock behind", async () => {
    const path = join(dir, "c.lock");
    const holder = child("hold", path);
    await new Promise<void>((resolve) => holder.stdout!.on("data", (d: Buffer) => d.toString().includes("held") && resolve()));
    expect(await takenWithin(path, 500)).toBe(false); // held by the other process
    holder.kill("SIGKILL");
    await holder.catch(() => {});
    expect(await takenWithin(path, 5000)).toBe(true);
    expect(existsSync(path)).toBe(true); // the file stays; the lock was the kernel's
  });

  it("four processes racing for one lock, while holders die holding it, never overlap (and without it they do)", async () => {
    const lock = join(dir, "d.lock");
    /** Holders that take the lock and are SIGKILLed holding it: every waiter then sees a dead holder at once. */
    const killHolders = async (times: number) => {
      for (let i = 0; i < times; i++) {
        const holder = child("hold", lock);
        await new Promise<void>((resolve) => holder.stdout!.on("data", (d: Buffer) => d.toString().includes("held") && resolve()));
        holder.kill("SIGKILL");
        await holder.catch(() => {});
      }
    };
    const run = async (mode: "locked" | "unlocked") => {
      const counter = join(dir, `counter-${mode}`);
      writeFileSync(counter, "0");
      // a lock file left by a holder that is gone, as after a crash: the pid-file takeover raced on exactly this
      writeFileSync(lock, "999999999");
      const startAt = String(Date.now() + 2000);
      await Promise.all([...[1, 2, 3, 4].map(() => child(mode, lock, counter, "15", startAt)), killHolders(mode === "locked" ? 5 : 0)]);
      return Number(readFileSync(counter, "utf8"));
    };
    expect(await run("locked")).toBe(60);
    // the same processes without the lock lose updates: the check above can fail
    expect(await run("unlocked")).not.toBe(60);
  });
});
