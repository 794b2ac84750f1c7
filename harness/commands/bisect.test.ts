import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { BisectResult, StepRecord } from "../stages/bisect/engine.ts";
import { bisectedPatches, identicalKernelWarning, parseHunt } from "./bisect.ts";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function step(commit: string, verdict: "good" | "bad", imageSha256: string): StepRecord {
  const runDir = mkdtempSync(join(tmpdir(), "wdh-step-"));
  dirs.push(runDir);
  mkdirSync(runDir, { recursive: true });
  writeFileSync(join(runDir, "manifest.json"), JSON.stringify({ kernel: { imageSha256 } }));
  const outcome =
    verdict === "good"
      ? { kind: "pass" as const, runDir, durationMs: 1, built: true }
      : { kind: "fail" as const, stage: "boot" as const, signature: "s", summary: "s", runDir, durationMs: 1, built: true };
  return { commit, subject: commit, role: "step", verdict, reason: "", outcomes: [outcome], durationMs: 1, confidence: "" };
}

function found(bad: StepRecord, good: StepRecord): BisectResult {
  return {
    status: "found",
    firstBad: { commit: bad.commit, subject: bad.subject },
    hunted: "s",
    hunt: { kind: "boot" },
    steps: [good, bad],
    badStep: bad,
    lastGood: good,
    gitLog: "",
    confidence: "",
  };
}

describe("identicalKernelWarning", () => {
  it("warns when the first bad commit built the last good point's Image", () => {
    expect(identicalKernelWarning(found(step("b", "bad", "aa".repeat(32)), step("g", "good", "aa".repeat(32))))).toMatch(/same Image .* cannot be the cause/);
    expect(identicalKernelWarning(found(step("b", "bad", "aa".repeat(32)), step("g", "good", "bb".repeat(32))))).toBeUndefined();
  });
});

describe("parseHunt", () => {
  it("reads what counts as bad", () => {
    expect(parseHunt("auto")).toEqual({ kind: "auto" });
    expect(parseHunt("test:warpdrive/isolation")).toEqual({ kind: "test", test: "warpdrive/isolation" });
    expect(() => parseHunt("oops")).toThrow(/--hunt oops: expected auto, build, boot, test/);
  });
});

describe("bisectedPatches: the last series is bisected, the ones it comes after are its base", () => {
  const p = (series: string, commit: string) => ({ series, commit });
  it("starts after the last patch of the series before it", () => {
    const patches = [p("warpdrive-virtio", "a1"), p("warpdrive-virtio", "a2"), p("bisect-panic", "b1"), p("bisect-panic", "b2"), p("bisect-panic", "b3")];
    expect(bisectedPatches(patches, "base")).toEqual({ good: "a2", count: 3, series: "bisect-panic", under: ["warpdrive-virtio"] });
  });
  it("a series alone starts at the tree's base", () => {
    expect(bisectedPatches([p("mine", "c1"), p("mine", "c2")], "base")).toEqual({ good: "base", count: 2, series: "mine", under: [] });
  });
});
