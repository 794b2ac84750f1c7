import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { InfraError, InterruptedError, UsageError } from "../lib/errors.ts";
import { createRunFolder } from "../lib/run-folder.ts";
import type { FailureKind, StageId } from "../lib/outcome.ts";
import type { StageResult } from "../lib/stage.ts";
import type { Context } from "./context.ts";
import { verdictOf } from "./finish.ts";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function ctxWith(extra: Partial<Context>): Context {
  const root = mkdtempSync(join(tmpdir(), "wdh-runs-"));
  dirs.push(root);
  return { run: createRunFolder("boot-test", root), ...extra } as Context;
}
const fail = (stage: StageId, kind?: FailureKind): StageResult<unknown> => ({
  stage,
  status: "fail",
  durationMs: 1,
  reason: `${stage} broke`,
  ...(kind ? { kind } : {}),
});

describe("verdictOf: one place maps outcomes to exit codes", () => {
  it("0 when nothing failed", () => expect(verdictOf(ctxWith({})).exitCode).toBe(0));
  it("1 for a regression: series, build, boot, guest", () => {
    for (const stage of ["series", "build", "boot", "guest"] as const) expect(verdictOf(ctxWith({ failure: fail(stage) })).exitCode).toBe(1);
  });
  it("2 for a Kconfig option that cannot be had, and for usage errors", () => {
    expect(verdictOf(ctxWith({ failure: fail("kconfig", "configuration") })).exitCode).toBe(2);
    expect(verdictOf(ctxWith({ error: new UsageError("bad flag") })).exitCode).toBe(2);
  });
  it("3 for infrastructure, 130 for an interruption, 4 for a bug in the harness", () => {
    expect(verdictOf(ctxWith({ error: new InfraError("QEMU did not start") })).exitCode).toBe(3);
    expect(verdictOf(ctxWith({ error: new InterruptedError("SIGINT") })).exitCode).toBe(130);
    expect(verdictOf(ctxWith({ error: new TypeError("oops in the harness") })).exitCode).toBe(4);
  });
});

describe("the run folder's manifest", () => {
  it("is written as the run goes, stages without their outputs", () => {
    const ctx = ctxWith({});
    const file = join(ctx.run.dir, "manifest.json");
    expect(JSON.parse(readFileSync(file, "utf8"))).toMatchObject({ command: "boot-test", stages: [] });
    ctx.run.set("tree", { description: "t", path: "/t", baseCommit: "abc", kernelVersion: "6.12.0" });
    ctx.run.recordStage({ stage: "build", status: "pass", durationMs: 1234.56, output: { huge: "object" }, reason: "built" });
    const m = JSON.parse(readFileSync(file, "utf8"));
    expect(m.tree).toMatchObject({ baseCommit: "abc" });
    expect(m.stages).toEqual([{ stage: "build", status: "pass", durationMs: 1235, reason: "built" }]);
  });
});
