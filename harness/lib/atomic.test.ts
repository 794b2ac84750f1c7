import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fillDirOnce, writeAtomically, writeFileAtomically } from "./atomic.ts";

const dir = mkdtempSync(join(tmpdir(), "wdh-atomic-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("cache entries written whole", () => {
  it("writes a file under a temporary name and renames it, parent folders made", async () => {
    const path = join(dir, "a", "b", "thread.mbox");
    writeFileAtomically(path, "mail");
    await writeAtomically(join(dir, "a", "c.cpio"), (tmp) => writeFileSync(tmp, "cpio"));
    expect(readFileSync(path, "utf8")).toBe("mail");
    expect(readFileSync(join(dir, "a", "c.cpio"), "utf8")).toBe("cpio");
    expect(readdirSync(join(dir, "a")).sort()).toEqual(["b", "c.cpio"]);
  });

  it("leaves nothing behind when the writer fails", async () => {
    const path = join(dir, "failed.cpio");
    await expect(writeAtomically(path, () => Promise.reject(new Error("gen_init_cpio died")))).rejects.toThrow("died");
    expect(existsSync(path)).toBe(false);
  });

  it("fills a folder once, and never twice", async () => {
    const target = join(dir, "series-x");
    let fills = 0;
    const fill = (tmp: string) => {
      fills++;
      writeFileSync(join(tmp, "0001.patch"), "p");
    };
    expect(await fillDirOnce(target, fill)).toBe(target);
    expect(await fillDirOnce(target, fill)).toBe(target);
    expect(fills).toBe(1);
    expect(readdirSync(target)).toEqual(["0001.patch"]);
  });

  it("drops a half-filled folder when the filler throws, so the next run fills it again", async () => {
    const target = join(dir, "debs-y");
    await expect(
      fillDirOnce(target, (tmp) => {
        writeFileSync(join(tmp, "half"), "");
        throw new Error("dpkg-deb failed");
      }),
    ).rejects.toThrow("dpkg-deb");
    expect(readdirSync(dir).filter((f) => f.startsWith("debs-y"))).toEqual([]);
    await fillDirOnce(target, (tmp) => writeFileSync(join(tmp, "whole"), ""));
    expect(readdirSync(target)).toEqual(["whole"]);
  });
});
