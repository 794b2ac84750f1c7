// Symbolise a report's stack with the kernel's own scripts/decode_stacktrace.sh, which turns
// "func+0x48/0x2c0" into "func (drivers/foo/bar.c:123)" with addr2line and disassembles "Code:" lines.
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Exec } from "../../lib/exec.ts";

/**
 * The report lines with source locations, or undefined when the script is missing, fails, or
 * decodes nothing (a vmlinux without debug info leaves every frame as it was).
 */
export async function decodeStack(lines: string[], vmlinux: string, treeDir: string, exec: Exec): Promise<string[] | undefined> {
  const script = join(treeDir, "scripts", "decode_stacktrace.sh");
  if (lines.length === 0 || !existsSync(script) || !existsSync(vmlinux)) return undefined;
  const input = lines.map((l) => l.replaceAll("\r", ""));
  try {
    // The script picks its tools as ${CROSS_COMPILE}nm/addr2line/readelf (unless LLVM is set), and
    // decodecode falls back to `uname -m` for ARCH, which is the host's, not the guest's.
    // The base path argument is stripped from addr2line's file names, leaving tree-relative paths.
    const result = await exec("bash", [script, vmlinux, treeDir], {
      input: input.join("\n") + "\n",
      allowFailure: true,
      cwd: treeDir,
      env: { CROSS_COMPILE: "aarch64-linux-gnu-", ARCH: "arm64", LLVM: undefined },
    });
    if (result.exitCode !== 0) return undefined;
    const decoded = result.stdout.replace(/\n$/, "").split("\n");
    // Frames are decoded to "func (file.c:123)"; if none was, the script could not read vmlinux.
    return decoded.some((l) => /\s\(\S+:\d+(?:\s|\))/.test(l)) ? decoded : undefined;
  } catch {
    return undefined;
  }
}
