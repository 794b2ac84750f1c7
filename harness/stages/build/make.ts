// How the kernel's make is invoked: cross compiler, out-of-tree build dir, ccache, reproducible stamps.
import { cacheDir } from "../../lib/paths.ts";

/** Declared once, by the profile's schema (toolchain: arch, crossCompile, ccache, cc, makeVars). */
export type { Toolchain } from "../../config/schema.ts";
import type { Toolchain } from "../../config/schema.ts";

export const defaultToolchain: Toolchain = { arch: "arm64", crossCompile: "aarch64-linux-gnu-", ccache: true };

export function compilerOf(toolchain: Toolchain): string {
  return toolchain.cc ?? `${toolchain.crossCompile}gcc`;
}

export function kernelMakeArgs(input: { buildDir: string; toolchain: Toolchain }): string[] {
  const { arch, crossCompile, ccache, cc, makeVars } = input.toolchain;
  const args = [`O=${input.buildDir}`, `ARCH=${arch}`, `CROSS_COMPILE=${crossCompile}`];
  if (ccache || cc) args.push(`CC=${ccache ? "ccache " : ""}${compilerOf(input.toolchain)}`);
  for (const [name, value] of Object.entries(makeVars ?? {})) args.push(`${name}=${value}`);
  return args;
}

export function kernelMakeEnv(toolchain: Toolchain): Record<string, string> {
  return {
    // Depend mode: on a miss ccache hashes the files named in the compiler's own depfile (Kbuild's
    // -Wp,-MMD) instead of running the preprocessor first, which cost a cold build ~45 % (bench).
    ...(toolchain.ccache ? { CCACHE_DIR: process.env.CCACHE_DIR ?? cacheDir("ccache"), CCACHE_MAXSIZE: "5G", CCACHE_DEPEND: "1" } : {}),
    // Fixed build stamps: the same source and config give the same Image, so bisect can tell when two
    // commits built the same kernel.
    KBUILD_BUILD_USER: "wdh",
    KBUILD_BUILD_HOST: "wdh",
    KBUILD_BUILD_TIMESTAMP: "2000-01-01 00:00:00 UTC",
  };
}
