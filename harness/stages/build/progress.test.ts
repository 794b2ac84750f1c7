import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expectedObjects, kernelBuildProgress } from "./progress.ts";

describe("kernel build progress", () => {
  it("estimates from .config first, then uses the count of the last build from an empty build dir", () => {
    const dir = mkdtempSync(join(tmpdir(), "wdh-progress-"));
    writeFileSync(join(dir, ".config"), Array.from({ length: 100 }, (_, i) => `CONFIG_X${i}=y`).join("\n") + "\n# CONFIG_Y is not set\n");
    expect(expectedObjects(dir, "k1")).toEqual({ total: 230, from: ".config" });
    const lines: string[] = [];
    const p = kernelBuildProgress(dir, "k1", (m) => lines.push(m));
    for (let i = 0; i < 300; i++) p.line(`  CC      drivers/x${i}.o`);
    p.line("  HOSTCC  scripts/foo"); // not an object of the kernel
    p.finished();
    expect(lines[0]).toMatch(/^\[\d+\/~230\] 0% CC drivers\/x\d+\.o$/);
    expect(expectedObjects(dir, "k1")).toEqual({ total: 300, from: "last build" });
    expect(expectedObjects(dir, "k2")?.from).toBe(".config");
  });

  it("shows a plain count for a build dir that already holds a kernel (make rebuilds what changed)", () => {
    const dir = mkdtempSync(join(tmpdir(), "wdh-progress-"));
    writeFileSync(join(dir, "vmlinux"), "");
    const lines: string[] = [];
    const p = kernelBuildProgress(dir, "k1", (m) => lines.push(m));
    p.line("  CC      drivers/crypto/virtio/virtio_crypto_core.o");
    expect(lines).toEqual(["[1] CC drivers/crypto/virtio/virtio_crypto_core.o"]);
  });

  it("into a build dir that holds a kernel: the count of the last build of the same tree state and config, as an estimate", () => {
    const dir = mkdtempSync(join(tmpdir(), "wdh-progress-"));
    writeFileSync(join(dir, "vmlinux"), "");
    const build = (state: string, objects: number) => {
      const lines: string[] = [];
      const p = kernelBuildProgress(dir, "k1", (m) => lines.push(m), state);
      for (let i = 0; i < objects; i++) p.line(`  CC      drivers/y${i}.o`);
      p.finished();
      return lines;
    };
    expect(build("s1", 40)[0]).toBe("[1] CC drivers/y0.o"); // never built: a plain count
    const again = build("s1", 40);
    expect(again[0]).toBe("[1/~40] 2% CC drivers/y0.o");
    expect(again.at(-1)).toMatch(/^\[40\/~40\] 99% /);
    expect(build("s2", 3)[0]).toBe("[1] CC drivers/y0.o");
  });
});
