// Attribution over saved console logs: which guest test each kernel report belongs to, from the
// runner's begin/end markers (real runs of test/fixtures/guest-tests/kernel-dies and kernel-oops).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../lib/paths.ts";
import { attributeFindings, testAt, testSpans } from "./attribution.ts";
import { triageLog } from "./triage.ts";

const log = (name: string) => readFileSync(join(repoRoot, "test/fixtures/console", name), "utf8").split("\n");

describe("attributing kernel reports to guest tests", () => {
  it("a panic during a test belongs to that test, whose span never ends", () => {
    const lines = log("test-panic-lkdtm.log");
    const spans = testSpans(lines);
    expect(spans.map((s) => [s.test, s.end === undefined])).toEqual([
      ["kernel-dies/before", false],
      ["kernel-dies/panics", true],
    ]);
    const findings = triageLog(lines.join("\n"));
    const panic = findings.find((f) => f.kind === "panic")!;
    expect(panic.title).toBe("Kernel panic - not syncing: dumptest");
    expect(attributeFindings(lines, [panic])[0]!.test).toBe("kernel-dies/panics");
  });

  it("an oops inside a test's span is that test's; the next test's span is clean", () => {
    const lines = log("test-oops-lkdtm.log");
    const findings = triageLog(lines.join("\n"));
    const attributed = attributeFindings(lines, findings);
    const oops = attributed.find((a) => a.finding.kind === "oops")!;
    expect(oops.test).toBe("kernel-oops/oopses");
    expect(attributed.filter((a) => a.test === "kernel-oops/after")).toEqual([]);
  });

  it("boot lines and lines between tests belong to no test", () => {
    const lines = log("test-oops-lkdtm.log");
    expect(testAt(lines, 10)).toBeUndefined();
    const end = lines.findIndex((l) => l.includes("test-end kernel-oops/oopses"));
    expect(testAt(lines, end - 1)).toBe("kernel-oops/oopses");
    expect(testAt(lines, end)).toBeUndefined();
    expect(testAt(log("boot-clean-6.12.log"), 100)).toBeUndefined();
  });
});
