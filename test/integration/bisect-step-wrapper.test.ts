// scripts/bisect-step, the wrapper git bisect run calls: the harness's answer passes through when git
// can live with it (0, 1, 125), 128 (a bug in the harness) passes through to stop git's bisection, and
// anything else (a usage error, node killed by a signal) is a skip. Run on a copy of the script whose tsx
// is a stand-in that exits with the code it is given.
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../harness/lib/paths.ts";

const root = mkdtempSync(join(tmpdir(), "wdh-bisect-step-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
mkdirSync(join(root, "scripts"));
mkdirSync(join(root, "node_modules/.bin"), { recursive: true });
copyFileSync(join(repoRoot, "scripts/bisect-step"), join(root, "scripts/bisect-step"));
writeFileSync(join(root, "node_modules/.bin/tsx"), '#!/bin/sh\nexit "$WDH_FAKE_EXIT"\n');
chmodSync(join(root, "node_modules/.bin/tsx"), 0o755);

const step = async (harnessExit: number) =>
  (await execa(join(root, "scripts/bisect-step"), ["--hunt", "boot"], { reject: false, env: { WDH_FAKE_EXIT: String(harnessExit) } })).exitCode;

describe("scripts/bisect-step", () => {
  it("passes good, bad and skip through; 128 (a bug in the harness) stops git; anything else is a skip", async () => {
    expect(await Promise.all([0, 1, 125, 128, 2, 3, 130, 137].map(step))).toEqual([0, 1, 125, 128, 125, 125, 125, 125]);
  });
});
