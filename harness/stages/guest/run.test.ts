import { describe, expect, it } from "vitest";
import type { CommandResult } from "../../lib/ssh.ts";
import type { Finding } from "../triage/triage.ts";
import { judge, parseMetrics } from "./run.ts";
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
  it("does not fail on an SMMU event by itself (a test may provoke one on purpose)", () => {
    expect(judge(test, ran(tap), [], [smmu], 10).status).toBe("pass");
  });
  it("fails on a timeout", () => expect(judge(test, ran("1..2\nok 1 - a\n", null, true), [], [], 10).reason).toBe("timed out after 10 s"));
  it("keeps the figures a test reports", () => {
    const r = judge(test, ran(`${tap}# metric: uq.64B.req_per_s 12000 req/s\n# metric: uq.64B.p50_us 41.5 us\n`), [], [], 10);
    expect(r.metrics).toEqual({ "uq.64B.req_per_s": { value: 12000, unit: "req/s" }, "uq.64B.p50_us": { value: 41.5, unit: "us" } });
    expect(parseMetrics("no figures")).toBeUndefined();
  });
});
