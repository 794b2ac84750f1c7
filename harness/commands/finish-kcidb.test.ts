import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createRunFolder } from "../lib/run-folder.ts";
import type { Context } from "./context.ts";
import { finishRun } from "./finish.ts";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("finishRun writes kcidb.json next to results.json", () => {
  it("for every run, even one that failed before a build", () => {
    const root = mkdtempSync(join(tmpdir(), "wdh-runs-"));
    dirs.push(root);
    const run = createRunFolder("build-kernel", root);
    run.recordStage({ stage: "tree", status: "pass", durationMs: 5, reason: "debian linux-source-6.12" });
    run.recordStage({ stage: "series", status: "fail", durationMs: 7, reason: "patch 1/1 does not apply" });
    const ctx = {
      run,
      commandLine: ["npm", "run", "build-kernel"],
      failure: { stage: "series", status: "fail", durationMs: 7, reason: "patch 1/1 does not apply" },
    } as unknown as Context;
    finishRun(ctx, "build-kernel");
    const doc = JSON.parse(readFileSync(join(run.dir, "kcidb.json"), "utf8"));
    expect(doc.version).toEqual({ major: 5, minor: 3 });
    expect(doc.checkouts[0]).toMatchObject({ origin: "warpdrive", valid: false });
    expect(doc.builds).toEqual([]);
  });
});
