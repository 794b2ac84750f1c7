import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildDirFor } from "./build-steps.ts";

describe("buildDirFor: one build dir per tree and configuration", () => {
  let root = "";
  const saved = process.env.WDH_CACHE_DIR;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "wdh-builddir-"));
    process.env.WDH_CACHE_DIR = root;
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.WDH_CACHE_DIR;
    else process.env.WDH_CACHE_DIR = saved;
    rmSync(root, { recursive: true, force: true });
  });
  const managed = () => join(root, "trees", "debian-linux-source-6.12-6.12.117-1");
  const defaults = ["base", "ssh", "pci-virtio", "iommu", "crypto", "uacce", "debug"].map((f) => `/repo/kernel-config/${f}.config`);

  it("the same fragment names give the same dir, wherever the fragment files are", () => {
    const a = buildDirFor(managed(), "arm64", "allnoconfig", defaults);
    const b = buildDirFor(
      managed(),
      "arm64",
      "allnoconfig",
      defaults.map((f) => f.replace("/repo/", "/elsewhere/")),
    );
    expect(a).toBe(b);
    expect(basename(a)).toMatch(/^debian-linux-source-6\.12-6\.12\.117-1-arm64-[0-9a-f]{8}$/);
  });

  it("another instrumentation (the debug profile's KASAN fragments), base or architecture gets its own dir", () => {
    const a = buildDirFor(managed(), "arm64", "allnoconfig", defaults);
    const debug = buildDirFor(managed(), "arm64", "allnoconfig", [...defaults, "/repo/kernel-config/debug-kasan.config"]);
    expect(debug).not.toBe(a);
    expect(buildDirFor(managed(), "arm64", "defconfig", defaults)).not.toBe(a);
    expect(buildDirFor(managed(), "x86_64", "allnoconfig", defaults)).not.toBe(a);
  });

  it("a tree of the developer's own gets a dir named after it and its path", () => {
    const dir = buildDirFor("/home/dev/linux", "arm64", "allnoconfig", defaults);
    expect(basename(dir)).toMatch(/^local-linux-[0-9a-f]{12}-arm64-[0-9a-f]{8}$/);
    expect(buildDirFor("/home/other/linux", "arm64", "allnoconfig", defaults)).not.toBe(dir);
  });
});
