import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InfraError } from "../../lib/errors.ts";
import type { Deps } from "../../lib/stage.ts";
import { checkHost, missingTools } from "./host.ts";

// Answers only the architecture query; any other command fails the test.
const noExec: Deps = {
  exec: async (file, args) => {
    if (file === "dpkg" && args[0] === "--print-foreign-architectures")
      return { argv: [file, ...args], exitCode: 0, stdout: "arm64\n", stderr: "", durationMs: 1 };
    throw new Error(`unexpected command ${file}`);
  },
  signal: new AbortController().signal,
  progress: () => {},
};

describe("host tools", () => {
  it("finds tools on PATH and names the missing ones", () => {
    const dir = mkdtempSync(join(tmpdir(), "wdh-path-"));
    writeFileSync(join(dir, "make"), "");
    expect(missingTools(["make", "no-such-tool"], dir)).toEqual(["no-such-tool"]);
    rmSync(dir, { recursive: true });
  });

  it("takes a path as it is, not as a name on PATH (--qemu /path/to/qemu-system-aarch64)", () => {
    const dir = mkdtempSync(join(tmpdir(), "wdh-path-"));
    writeFileSync(join(dir, "qemu-system-aarch64"), "");
    expect(missingTools([join(dir, "qemu-system-aarch64"), join(dir, "gone")], "/usr/bin")).toEqual([join(dir, "gone")]);
    rmSync(dir, { recursive: true });
  });

  it("tells a non-root user what to install and how, without running anything", async () => {
    const err = await checkHost({ tools: ["no-such-tool-wdh"], isRoot: false }, noExec).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfraError);
    expect((err as InfraError).message).toBe("missing host tools: no-such-tool-wdh");
    expect((err as InfraError).details[0]).toMatch(/install them as root: .*scripts\/install-host-deps\.sh$/);
  });

  it("passes without running anything when all is there", async () => {
    expect((await checkHost({ tools: ["sh"], isRoot: false }, noExec)).status).toBe("pass");
  });
});
