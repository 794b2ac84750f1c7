import { describe, expect, it } from "vitest";
import type { CommandResult } from "../../lib/ssh.ts";
import { triageLog, type Finding } from "../triage/triage.ts";
import { judge, parseMetrics } from "./judge.ts";
import type { GuestTest } from "./suites.ts";

const test: GuestTest = { suite: "s", name: "t", guestPath: "/opt/wdh/s/t", command: ["/opt/wdh/s/t"], timeoutSeconds: 10 };
const ran = (stdout: string, exitCode: number | null = 0, timedOut = false): CommandResult => ({ exitCode, stdout, stderr: "", durationMs: 5, timedOut });
const tap = "TAP version 13\n1..2\nok 1 - a\nok 2 - b\n";
const warning = { id: "warning", kind: "warning", severity: "warning", title: "WARNING in foo" } as Finding;
const smmu = { id: "smmu-event", kind: "smmu-event", severity: "info", title: "SMMU event 0x10" } as Finding;

describe("judge: a guest test's verdict", () => {
  it("passes on clean TAP and exit 0", () => expect(judge(test, ran(tap), [], [], 10).status).toBe("pass"));
  it("fails on a failing point, naming it", () => {
    const r = judge(test, ran("1..2\nok 1 - a\nnot ok 2 - decrypt matches\n", 1), [], [], 10);
    expect(r.status).toBe("fail");
    expect(r.reason).toMatch(/decrypt matches/);
  });
  it("fails when the kernel logged a WARNING while it ran, whatever it printed", () => {
    const r = judge(test, ran(tap), ["[ 1.0] WARNING: ..."], [warning], 10);
    expect(r.status).toBe("fail");
    expect(r.reason).toBe("the kernel logged WARNING in foo");
  });
  it("does not fail on a finding that is only information and no SMMU event", () => {
    expect(judge(test, ran(tap), [], [smmu], 10).status).toBe("pass"); // no decoded event: nothing to judge
  });
  it("an SMMU event the test declares is its own; one it does not declare fails it, named decoded", () => {
    const [event] = triageLog(
      [
        "[   42.100024] arm-smmu-v3 9050000.smmuv3: event 0x10 received:",
        "[   42.100082] arm-smmu-v3 9050000.smmuv3: \t0x0000001800000010",
        "[   42.100136] arm-smmu-v3 9050000.smmuv3: \t0x0000020000000000",
        "[   42.100192] arm-smmu-v3 9050000.smmuv3: \t0x0000000000010000",
        "[   42.100246] arm-smmu-v3 9050000.smmuv3: \t0x0000000000000000",
      ].join("\n"),
    ) as [Finding];
    const declared = judge({ ...test, expects: [{ "smmu-event": { client: "00:03.0" } }] }, ran(tap), [], [event], 10);
    expect(declared.status).toBe("pass");
    expect(declared.smmuEvents).toMatchObject([{ expected: true, test: "s/t", where: "in s/t", lineIndex: 0 }]);
    const undeclared = judge(test, ran(tap), [], [event], 10);
    expect(undeclared.status).toBe("fail");
    expect(undeclared.reason).toBe(
      "unexpected SMMU event F_TRANSLATION client 0000:00:03.0 (from sid) sid 0x18 ssid none iova 0x10000 unpriv data write (console line 1); the test does not declare it (suite.yaml expects:)",
    );
    const otherDevice = judge({ ...test, expects: [{ "smmu-event": { client: "0000:00:02.0" } }] }, ran(tap), [], [event], 10);
    expect(otherDevice.status).toBe("fail");
  });
  it("fails on a timeout", () => expect(judge(test, ran("1..2\nok 1 - a\n", null, true), [], [], 10).reason).toBe("timed out after 10 s"));
  it("keeps the figures a test reports", () => {
    const r = judge(test, ran(`${tap}# metric: uq.64B.req_per_s 12000 req/s\n# metric: uq.64B.p50_us 41.5 us\n`), [], [], 10);
    expect(r.metrics).toEqual({ "uq.64B.req_per_s": { value: 12000, unit: "req/s" }, "uq.64B.p50_us": { value: 41.5, unit: "us" } });
    expect(parseMetrics("no figures")).toBeUndefined();
  });
});
