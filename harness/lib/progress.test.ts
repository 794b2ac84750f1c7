import { describe, expect, it } from "vitest";
import { createProgress, formatLeft, parseProgressLine, percentOf, plainProgress } from "./progress.ts";

describe("progress lines", () => {
  it("shows done/total, percentage and an estimate from the rate so far, once per percent", () => {
    let t = 0;
    const lines: string[] = [];
    const p = createProgress({ report: (m) => lines.push(m), now: () => t });
    for (let n = 1; n <= 200; n++) {
      t = n * 100; // 100 ms per step
      p.update(n, `CC obj${n}.o`, 200);
    }
    expect(lines).toHaveLength(101);
    expect(lines[0]).toBe("[1/200] 0% CC obj1.o"); // too early for an estimate
    expect(lines[50]).toBe("[100/200] 50% ~10 s left CC obj100.o");
    expect(lines[100]).toBe("[200/200] 100% CC obj200.o");
  });

  it("marks an estimated total and never claims 100 % before the work ends", () => {
    const lines: string[] = [];
    const p = createProgress({ report: (m) => lines.push(m), total: 100, estimated: true, now: () => 0 });
    for (let n = 1; n <= 130; n++) p.update(n, "CC x.o");
    expect(lines.at(-1)).toMatch(/^\[\d+\/~100\] 99% /);
    expect(percentOf(130, 100, true)).toBe(99);
  });

  it("counts every 25th item when nothing says how many", () => {
    const lines: string[] = [];
    const p = createProgress({ report: (m) => lines.push(m) });
    for (let n = 1; n <= 60; n++) p.update(n, "CC y.o");
    expect(lines).toEqual(["[1] CC y.o", "[26] CC y.o", "[51] CC y.o"]);
  });

  it("formats what is left in seconds and minutes", () => {
    expect(formatLeft(40_000)).toBe("~40 s left");
    expect(formatLeft(200_000)).toBe("~3 min 20 s left");
    expect(formatLeft(120_000)).toBe("~2 min left");
  });

  it("plain output keeps one line per tenth, and starts over for a new count", () => {
    const shown: string[] = [];
    const plain = plainProgress((m) => shown.push(m));
    plain("configure");
    for (let p = 0; p <= 100; p++) plain(`[${p * 30}/3000] ${p}% CC a.o`);
    for (let p = 0; p <= 20; p++) plain(`[${p}/100] ${p}% CC b.o`);
    expect(shown[0]).toBe("configure");
    expect(shown.filter((l) => l.includes("a.o")).map((l) => parseProgressLine(l)!.percent)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    expect(shown.filter((l) => l.includes("b.o")).map((l) => parseProgressLine(l)!.percent)).toEqual([0, 10, 20]);
    plain("[71] Jan 01 00:00:03 Pubkey auth succeeded for 'root'"); // a guest's log line, not a count
    expect(shown.at(-1)).toBe("[71] Jan 01 00:00:03 Pubkey auth succeeded for 'root'");
  });
});
