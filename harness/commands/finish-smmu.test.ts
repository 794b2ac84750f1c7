// SMMU events from console to verdict: a saved console is replayed test by test through the guest stage
// (a fake guest prints each test's span when the runner runs it), then judged by verdictOf and summarized
// as the run's last lines are.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { TestExpectation } from "../config/schema.ts";
import { repoRoot } from "../lib/paths.ts";
import { createRunFolder } from "../lib/run-folder.ts";
import type { CommandResult, SshSession } from "../lib/ssh.ts";
import type { Deps } from "../lib/stage.ts";
import { runGuestTests } from "../executors/local-qemu/guest-tests.ts";
import type { TestResult } from "../stages/guest/judge.ts";
import type { GuestTest } from "../stages/guest/suites.ts";
import type { LiveGuest } from "../executors/local-qemu/boot.ts";
import { testSpans } from "../stages/triage/attribution.ts";
import { ConsoleTriage } from "../stages/triage/triage.ts";
import type { GuestRun } from "../executors/types.ts";
import type { Context } from "./context.ts";
import { summaryLines, verdictOf } from "./finish.ts";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

const fixture = (name: string) => readFileSync(join(repoRoot, "test/fixtures/console", name), "utf8");
const TAP = "TAP version 13\n1..1\nok 1 - fine\n";

/** A guest whose console is a saved one: boot lines at once, each test's span when the runner runs it. */
function replayGuest(text: string): { guest: LiveGuest; session: SshSession; tests: (expects: Record<string, TestExpectation[]>) => GuestTest[] } {
  const all = text.split("\n");
  const spans = testSpans(all);
  const lines: string[] = [];
  const triage = new ConsoleTriage();
  const waiters: { match: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  const print = (l: string) => {
    lines.push(l);
    triage.feed(l);
    for (const w of waiters.splice(0)) {
      if (w.match(l)) w.resolve(l);
      else waiters.push(w);
    }
  };
  all.slice(0, spans[0]!.begin).forEach(print);
  const guest = {
    lines,
    triage,
    ended: new Promise(() => {}),
    waitForLine: (match: (l: string) => boolean, ms: number) =>
      new Promise<string | undefined>((resolve) => {
        waiters.push({ match, resolve });
        setTimeout(() => resolve(undefined), Math.min(ms, 200)).unref();
      }),
  } as unknown as LiveGuest;
  const session = {
    run: async (command: string): Promise<CommandResult> => {
      const [, test, nonce] = /test-begin (\S+)#([0-9a-f]+)/.exec(command)!;
      const span = spans.find((s) => s.test === test)!;
      const rewrite = (l: string) => l.replace(/(test-(?:begin|end) \S+#)[0-9a-f]+/, `$1${nonce}`);
      all
        .slice(span.begin, span.end! + 1)
        .map(rewrite)
        .forEach(print);
      return { exitCode: 0, stdout: TAP, stderr: "", durationMs: 10, timedOut: false };
    },
  } as unknown as SshSession;
  const tests = (expects: Record<string, TestExpectation[]>) =>
    spans.map((s): GuestTest => {
      const [suite, name] = s.test.split("/") as [string, string];
      return {
        suite,
        name,
        guestPath: `/opt/wdh/${s.test}`,
        command: [`/opt/wdh/${s.test}`],
        timeoutSeconds: 10,
        ...(expects[s.test] ? { expects: expects[s.test] } : {}),
      };
    });
  return { guest, session, tests };
}

const deps = { exec: () => Promise.reject(new Error("no commands")), signal: new AbortController().signal, progress: () => {} } as unknown as Deps;

async function runOn(text: string, expects: Record<string, TestExpectation[]>) {
  const { guest, session, tests } = replayGuest(text);
  const stage = await runGuestTests({ guest, session, tests: tests(expects), testScale: 1 }, deps);
  const root = mkdtempSync(join(tmpdir(), "wdh-runs-"));
  dirs.push(root);
  const guestRun = { lines: guest.lines, findings: guest.triage.findings, tests: stage.output ?? [] } as GuestRun;
  const ctx = { run: createRunFolder("boot-test", root), guestRun, ...(stage.status === "fail" ? { failure: stage } : {}) } as Context;
  const verdict = verdictOf(ctx);
  const byName = Object.fromEntries((stage.output ?? []).map((t) => [`${t.suite}/${t.name}`, t])) as Record<string, TestResult>;
  return { verdict, tests: byName, summary: summaryLines(ctx, verdict) };
}

const isolation: TestExpectation[] = [{ "smmu-event": { event: "F_TRANSLATION", client: "0000:00:03.0" } }];

describe("a real 6.12 run: isolation provokes its events, bench provokes some nobody declared", () => {
  const log = fixture("run-smmu-events-6.12.log");

  it("an event inside the test that expects it is that test's, and the test passes", async () => {
    const { tests } = await runOn(log, { "warpdrive/isolation": isolation, "warpdrive/bench": ["smmu-event"] });
    expect(tests["warpdrive/isolation"]!.status).toBe("pass");
    expect(tests["warpdrive/isolation"]!.smmuEvents).toHaveLength(16);
    expect(tests["warpdrive/isolation"]!.smmuEvents!.every((e) => e.expected && e.test === "warpdrive/isolation")).toBe(true);
    expect(tests["warpdrive/isolation"]!.smmuEvents![0]).toMatchObject({
      lineIndex: 176,
      description: "F_TRANSLATION client 0000:00:03.0 (from sid) sid 0x18 ssid none iova 0x10000 unpriv data write",
    });
  });

  it("every event declared: exit 0, and the summary counts them per test and notes the rate limit", async () => {
    const { verdict, summary } = await runOn(log, { "warpdrive/isolation": isolation, "warpdrive/bench": ["smmu-event"] });
    expect(verdict.exitCode).toBe(0);
    expect(summary).toContain(
      "SMMU events: 24, attributed to tests warpdrive/isolation(16), warpdrive/bench(8); 21 more not printed (rate limit, console line 261); " +
        "events may have been suppressed: 10 printed within 5 s at 11.9 s",
    );
  });

  it("an event in a test that does not declare it fails that test and the run (exit 1), the event named", async () => {
    const { verdict, tests, summary } = await runOn(log, { "warpdrive/isolation": isolation });
    const bench = tests["warpdrive/bench"]!;
    expect(bench.status).toBe("fail");
    expect(bench.reason).toBe(
      "unexpected SMMU event F_TRANSLATION client 0000:00:02.0 (from sid) sid 0x10 ssid none iova 0x7c0 unpriv data write (console line 262) (and 7 more); " +
        "the test does not declare it (suite.yaml expects:)",
    );
    expect(bench.smmuEvents!.filter((e) => !e.expected)).toHaveLength(8);
    expect(tests["warpdrive/isolation"]!.status).toBe("pass");
    expect(verdict.exitCode).toBe(1);
    expect(verdict.reason).toBe(`guest: 1 of 10 guest tests failed: warpdrive/bench: ${bench.reason}`);
    expect(summary).toContain(
      "SMMU events: 24, attributed to tests warpdrive/isolation(16); UNEXPECTED: 8 in warpdrive/bench; 21 more not printed (rate limit, console line 261); events may have been suppressed: 10 printed within 5 s at 11.9 s",
    );
  });

  it("a narrowed expectation does not cover another device's events", async () => {
    const { tests } = await runOn(log, { "warpdrive/isolation": isolation, "warpdrive/bench": isolation });
    expect(tests["warpdrive/bench"]!.status).toBe("fail");
  });
});

describe("a 7.2 console: decoded events with PASIDs, one at boot", () => {
  const log = fixture("run-smmu-events-7.2.log");
  const declared: Record<string, TestExpectation[]> = {
    "sva/pasid-faults": [{ "smmu-event": { client: "0000:01:00.0", event: ["F_TRANSLATION", "F_PERMISSION"] } }],
    "sva/cd-fetch": [{ "smmu-event": { event: "F_CD_FETCH", ssid: 3 } }],
    "sva/fault-storm": ["smmu-event"],
  };

  it("an event at boot fails the run, named decoded and placed", async () => {
    const { verdict, tests, summary } = await runOn(log, declared);
    expect(Object.values(tests).map((t) => t.status)).toEqual(["pass", "pass", "pass"]);
    expect(verdict.exitCode).toBe(1);
    expect(verdict.reason).toBe(
      "unexpected SMMU event C_BAD_STREAMID client (unassigned sid) sid 0x28 ssid none during boot (before the first test) (console line 12)",
    );
    expect(summary).toContain(`FAIL (exit 1): ${verdict.reason}`);
    expect(
      summary.some((l) =>
        l.startsWith(
          "SMMU events: 11, attributed to tests sva/pasid-faults(2), sva/cd-fetch(1), sva/fault-storm(7); UNEXPECTED: 1 during boot (before the first test)",
        ),
      ),
    ).toBe(true);
  });

  it("an event with a PASID the test did not declare fails it, with its ssid", async () => {
    const { tests } = await runOn(log, { ...declared, "sva/pasid-faults": [{ "smmu-event": { event: "F_TRANSLATION" } }] });
    expect(tests["sva/pasid-faults"]!.reason).toBe(
      "unexpected SMMU event F_PERMISSION client 0000:01:00.0 sid 0x100 ssid 0x2 iova 0x7f00a000 unpriv data write (console line 33); the test does not declare it (suite.yaml expects:)",
    );
  });
});

describe("an event between tests", () => {
  it("fails the run, naming the tests around it", () => {
    const text = [
      "[    1.000000] wdh: test-begin a/one#000001",
      "[    1.100000] wdh: test-end a/one#000001 rc=0",
      "[    1.200000] arm-smmu-v3 9050000.smmuv3: event 0x10 received:",
      "[    1.200001] arm-smmu-v3 9050000.smmuv3: \t0x0000001000000010",
      "[    1.200002] arm-smmu-v3 9050000.smmuv3: \t0x0000000000000000",
      "[    1.200003] arm-smmu-v3 9050000.smmuv3: \t0x00000000000007c0",
      "[    1.200004] arm-smmu-v3 9050000.smmuv3: \t0x0000000000000000",
      "[    1.300000] wdh: test-begin a/two#000002",
      "[    1.400000] wdh: test-end a/two#000002 rc=0",
    ];
    const triage = new ConsoleTriage();
    text.forEach((l) => triage.feed(l));
    triage.finish();
    const root = mkdtempSync(join(tmpdir(), "wdh-runs-"));
    dirs.push(root);
    const ctx = { run: createRunFolder("boot-test", root), guestRun: { lines: text, findings: triage.findings, tests: [] } } as unknown as Context;
    expect(verdictOf(ctx)).toMatchObject({
      exitCode: 1,
      reason:
        "unexpected SMMU event F_TRANSLATION client 0000:00:02.0 (from sid) sid 0x10 ssid none iova 0x7c0 unpriv data write between tests a/one and a/two (console line 3)",
    });
  });
});
