import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { acquireLock, withLock } from "./lock.ts";

const dir = mkdtempSync(join(tmpdir(), "wdh-lock-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("locks", () => {
  it("makes a second holder wait until the first releases", async () => {
    const path = join(dir, "a.lock");
    const release = await acquireLock(path);
    const order: string[] = [];
    const second = withLock(path, async () => void order.push("second"));
    await new Promise((r) => setTimeout(r, 200));
    order.push("first done");
    release();
    await second;
    expect(order).toEqual(["first done", "second"]);
    expect(existsSync(path)).toBe(false);
  });

  it("takes over a lock whose holder is gone", async () => {
    const path = join(dir, "b.lock");
    writeFileSync(path, "999999999");
    const release = await acquireLock(path);
    release();
    release(); // releasing twice is harmless
  });
});
