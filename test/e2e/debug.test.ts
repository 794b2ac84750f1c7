// The debug kernel (issue 12): profiles/debug.yaml as committed — Debian's 6.12 with the WarpDrive series on
// a generic KASAN + lockdep (PROVE_LOCKING) + DEBUG_ATOMIC_SLEEP + fault injection kernel — runs the baseline
// and warpdrive suites, fault injection on the queue's reset path included, with zero KASAN, lockdep or
// sleeping-in-atomic reports: any such report is a console finding that fails the run (decoded).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli, COLD_KERNEL, runJson as json } from "./cli.ts";

type Test = { suite: string; name: string; status: string };

describe("npm run boot-test -- --profile debug", () => {
  it("runs baseline and warpdrive on a KASAN + lockdep + fault injection kernel with zero reports", COLD_KERNEL, async () => {
    const run = await cli("boot-test", "--profile", "debug");
    expect(run.exitCode, run.output).toBe(0);
    const r = json(run.runDir, "results.json");
    const statuses: string[] = r.tests.map((t: Test) => `${t.suite}/${t.name}:${t.status}`);
    // every test ran and passed; faults and freeze skip only on kernels without their options
    for (const name of ["lifecycle", "isolation", "sessions", "faults", "freeze", "unbind"]) expect(statuses, name).toContain(`warpdrive/${name}:pass`);
    expect(statuses.filter((s) => !s.endsWith(":pass"))).toEqual([]);
    // nothing on the console at all: no KASAN, lockdep, sleeping-in-atomic or other report
    expect((r.consoleFindings ?? []).map((f: { kind: string; title: string }) => `${f.kind}: ${f.title}`)).toEqual([]);
    // and it was the debug kernel: the sanitizers said they were there
    const console = readFileSync(join(run.runDir, "console.log"), "utf8");
    expect(console).toMatch(/KernelAddressSanitizer initialized \(generic\)/);
    expect(console).toMatch(/Lock dependency validator: Copyright/);
    const config = JSON.stringify(json(run.runDir, "manifest.json"));
    expect(config).toContain("debug-kasan");
    expect(config).toContain("debug-lockdep");
  });
});
