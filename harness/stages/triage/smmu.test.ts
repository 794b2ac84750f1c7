// SMMU events in both formats arm-smmu-v3 prints, and what a test's `expects:` covers. Fixtures:
// run-smmu-events-6.12.log is the console of a real default-profile run (host QEMU 7.2, Linux 6.12);
// run-smmu-events-7.2.log is written from arm_smmu_dump_event()'s format strings in Linux 7.2.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../lib/paths.ts";
import { placeOf, testSpans } from "./attribution.ts";
import { describeSmmuEvent, saturatedWindows } from "./smmu.ts";
import { expectationProblems, expectsSmmuEvent, smmuReport, smmuSummaryLine, testSmmuEvents } from "./smmu-expect.ts";
import { triageLog, type Finding } from "./triage.ts";

const fixture = (name: string) => readFileSync(join(repoRoot, "test/fixtures/console", name), "utf8");
const events = (name: string) => triageLog(fixture(name)).filter((f) => f.kind === "smmu-event");
const event = (f: Finding) => f.smmu!;

describe("Linux 6.12: the raw event record", () => {
  const found = events("run-smmu-events-6.12.log");

  it("one event per record, not per line, decoded from the words", () => {
    expect(found).toHaveLength(24);
    expect(found.every((f) => f.lines.length === 5)).toBe(true);
    expect(event(found[0]!)).toMatchObject({
      format: "raw",
      eventId: 0x10,
      eventName: "F_TRANSLATION",
      streamId: 0x18,
      ssv: false,
      pciDevice: "0000:00:03.0",
      address: "0x10000",
      access: "write",
    });
    expect(event(found[0]!).substreamId).toBeUndefined();
    expect(event(found[0]!).client).toBeUndefined(); // 6.12 does not name the device
    expect(event(found[6]!).access).toBe("read"); // RnW, word 1 bit 35
    expect(describeSmmuEvent(event(found[0]!))).toBe("F_TRANSLATION client 0000:00:03.0 (from sid) sid 0x18 ssid none iova 0x10000 unpriv data write");
  });

  it("the SubstreamID when SSV is set (word 0 bits 31:12, bit 11)", () => {
    const lines = [
      "[   5.000000] arm-smmu-v3 9050000.smmuv3: event 0x10 received:",
      "[   5.000001] arm-smmu-v3 9050000.smmuv3: \t0x000001000002a810",
      "[   5.000002] arm-smmu-v3 9050000.smmuv3: \t0x0000020800000000",
      "[   5.000003] arm-smmu-v3 9050000.smmuv3: \t0x0000ffff8000d000",
      "[   5.000004] arm-smmu-v3 9050000.smmuv3: \t0x0000000000000000",
    ];
    const [f] = triageLog(lines.join("\n"));
    expect(event(f!)).toMatchObject({ streamId: 0x100, ssv: true, substreamId: 0x2a, pciDevice: "0000:01:00.0", address: "0xffff8000d000", access: "read" });
    expect(f!.title).toBe("arm-smmu-v3 9050000.smmuv3: event 0x10 F_TRANSLATION, StreamID 0x100, SubstreamID 0x2a, address 0xffff8000d000");
  });

  it("the rate limit's count of events it did not print", () => {
    const suppressed = triageLog(fixture("run-smmu-events-6.12.log")).filter((f) => f.kind === "smmu-suppressed");
    expect(suppressed.map((f) => [f.lineIndex + 1, f.severity, f.title])).toEqual([
      [261, "info", "21 SMMU events not printed (rate limit, arm_smmu_evtq_thread)"],
    ]);
  });
});

describe("Linux 7.2: the raw record and the kernel's decoding", () => {
  const found = events("run-smmu-events-7.2.log");

  it("a translation fault with a PASID: client, sid, ssid, iova and the access, one event of 7 lines", () => {
    const f = found.find((x) => x.smmu?.eventName === "F_TRANSLATION" && x.smmu.substreamId === 1)!;
    expect(f.lines).toHaveLength(7);
    expect(event(f)).toMatchObject({
      format: "decoded",
      eventId: 0x10,
      client: "0000:01:00.0",
      streamId: 0x100,
      ssv: true,
      substreamId: 1,
      address: "0x1234000",
      access: "read",
      privileged: false,
      instruction: false,
      stage: 1,
      faultClass: "Input address caused fault",
      stall: false,
    });
    expect(event(f).ipa).toBeUndefined(); // "ipa: 0": no stage 2
    expect(describeSmmuEvent(event(f))).toBe("F_TRANSLATION client 0000:01:00.0 sid 0x100 ssid 0x1 iova 0x1234000 unpriv data read");
  });

  it("a permission fault (write), a CD fetch fault and a StreamID no device owns", () => {
    const [boot, , perm, cd] = found;
    expect(describeSmmuEvent(event(perm!))).toBe("F_PERMISSION client 0000:01:00.0 sid 0x100 ssid 0x2 iova 0x7f00a000 unpriv data write");
    expect(event(cd!)).toMatchObject({ eventName: "F_CD_FETCH", substreamId: 3, fetchAddress: "0x4fe2040" });
    expect(event(cd!).access).toBeUndefined();
    expect(event(boot!)).toMatchObject({ eventName: "C_BAD_STREAMID", streamId: 0x28, ssv: false, format: "decoded" });
    expect(event(boot!).client).toBeUndefined();
    expect(describeSmmuEvent(event(boot!))).toBe("C_BAD_STREAMID client (unassigned sid) sid 0x28 ssid none");
    expect(boot!.lines).toHaveLength(6); // the default case prints no access line
  });

  it("ssid 0 without SSV is no SubstreamID; with only the decoded line the kernel's values stand", () => {
    const storm = found.filter((f) => f.smmu?.streamId === 0x18);
    expect(storm).toHaveLength(7);
    expect(storm.every((f) => f.smmu!.substreamId === undefined && f.smmu!.client === "0000:00:03.0")).toBe(true);
  });
});

describe("rate limiting: 10 events per 5 s", () => {
  it("a window that printed its whole burst may have hidden more", () => {
    expect(saturatedWindows([1, 1.1, 1.2])).toEqual([]);
    expect(saturatedWindows([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 6.5])).toEqual([0.9]);
    // nine, then the window closes: the tenth opens a new one
    expect(saturatedWindows([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 5.5])).toEqual([]);
  });

  it("the summary says what the kernel did not print, and that more may be missing", () => {
    const text = fixture("run-smmu-events-7.2.log");
    const lines = text.split("\n");
    const all = triageLog(text);
    const spans = testSpans(lines);
    const attributed = all
      .filter((f) => f.smmu)
      .map((f) => {
        const where = placeOf(spans, f.lineIndex);
        const test = where.startsWith("in ") ? where.slice(3) : undefined;
        return testSmmuEvents(test ?? "-", test ? ["smmu-event"] : [], [f]).map((a) => (test ? a : { ...a, test: undefined, where }))[0]!;
      });
    const report = smmuReport(
      attributed,
      all.filter((f) => f.kind === "smmu-suppressed"),
    );
    // The window opened with the boot event: four printed before the storm, six in it, seven dropped.
    expect(report.suppressed).toEqual([{ count: 7, line: 92 }]);
    expect(report.burstExhaustedAt).toEqual([3.42]);
    expect(smmuSummaryLine(report)).toBe(
      "SMMU events: 11, attributed to tests sva/pasid-faults(2), sva/cd-fetch(1), sva/fault-storm(7); UNEXPECTED: 1 during boot (before the first test); " +
        "7 more not printed (rate limit, console line 92); events may have been suppressed: 10 printed within 5 s at 3.4 s",
    );
  });
});

describe("what a test's expects: covers", () => {
  const [boot, pasid1, perm, cd] = events("run-smmu-events-7.2.log").map(event) as [ReturnType<typeof event>, ...ReturnType<typeof event>[]];
  const raw = event(events("run-smmu-events-6.12.log")[0]!);

  it("smmu-event: any event", () => {
    expect(expectsSmmuEvent(["smmu-event"], boot)).toBe(true);
    expect(expectsSmmuEvent([], raw)).toBe(false);
    expect(expectsSmmuEvent(undefined, raw)).toBe(false);
  });

  it("narrowed by event name, client, sid and ssid; every field given must match", () => {
    expect(expectsSmmuEvent([{ "smmu-event": { event: "F_TRANSLATION" } }], pasid1!)).toBe(true);
    expect(expectsSmmuEvent([{ "smmu-event": { event: "F_TRANSLATION" } }], perm!)).toBe(false);
    expect(expectsSmmuEvent([{ "smmu-event": { event: ["F_TRANSLATION", "F_PERMISSION"] } }], perm!)).toBe(true);
    expect(expectsSmmuEvent([{ "smmu-event": { client: "0000:01:00.0", ssid: 3 } }], cd!)).toBe(true);
    expect(expectsSmmuEvent([{ "smmu-event": { client: "0000:01:00.0", ssid: 2 } }], cd!)).toBe(false);
    expect(expectsSmmuEvent([{ "smmu-event": { sid: 0x100 } }], cd!)).toBe(true);
    expect(expectsSmmuEvent([{ "smmu-event": { client: "0000:00:05.0" } }], boot)).toBe(false); // the kernel said no device owns it
  });

  it("on 6.12 a client is the PCI device whose requester ID the StreamID is; short addresses do", () => {
    expect(expectsSmmuEvent([{ "smmu-event": { client: "0000:00:03.0", event: "F_TRANSLATION" } }], raw)).toBe(true);
    expect(expectsSmmuEvent([{ "smmu-event": { client: "00:03.0" } }], raw)).toBe(true);
    expect(expectsSmmuEvent([{ "smmu-event": { client: "0000:00:02.0" } }], raw)).toBe(false);
  });

  it("names an event name the architecture does not have", () => {
    expect(expectationProblems(["smmu-event", { "smmu-event": { event: ["F_TRANSLATION", "F_TRANSLATON"] } }])).toEqual([
      expect.stringMatching(/^smmu-event F_TRANSLATON is not an SMMUv3 event name \(F_UUT, .*F_TRANSLATION/),
    ]);
  });
});
