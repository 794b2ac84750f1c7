// The series stage on real git: a fixture series applies one commit per patch; a conflicting patch is
// named with its file and hunk and leaves the tree as it was.
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createExec } from "../../harness/lib/exec.ts";
import { git, gitOut, treeState } from "../../harness/lib/git.ts";
import { repoRoot } from "../../harness/lib/paths.ts";
import type { Deps } from "../../harness/lib/stage.ts";
import { applySeries } from "../../harness/stages/series/series.ts";
import { loadSeries } from "../../harness/config/resolve.ts";

const exec = createExec();
const deps: Deps = { exec, signal: new AbortController().signal, progress: () => {} };
let tree: string;
let base: string;

beforeEach(async () => {
  tree = mkdtempSync(join(tmpdir(), "wdh-series-"));
  cpSync(join(repoRoot, "test/fixtures/fake-tree"), tree, { recursive: true });
  await git(exec, tree, ["init", "-q", "-b", "base"]);
  await git(exec, tree, ["add", "-A"]);
  await git(exec, tree, ["commit", "-q", "-m", "fake base"], { env: { GIT_AUTHOR_DATE: "2000-01-01T00:00:00Z" } });
  base = await gitOut(exec, tree, ["rev-parse", "HEAD"]);
});
afterEach(() => rmSync(tree, { recursive: true, force: true }));

function patchesOf(name: string) {
  const s = loadSeries(join(repoRoot, "test/fixtures/series", name));
  if (s.source.kind !== "files") throw new Error(`${name} is not a folder of patches`);
  return s.source.files.map((file) => ({ series: s.name, file, provenance: { kind: "file" as const, file }, attestations: [] }));
}

describe("applySeries on a real git tree", () => {
  it("applies a series as one commit per patch, and reuses it the next time", async () => {
    const input = { treeDir: tree, managed: true, baseCommit: base, patches: patchesOf("demo-good"), logFile: join(tree, "..", "series.log") };
    const r = await applySeries(input, deps);
    expect(r.status).toBe("pass");
    expect(r.output!.patches.map((p) => p.subject)).toEqual(["demo: use two queues", "demo: log the queue count at probe"]);
    expect(await gitOut(exec, tree, ["rev-list", "--count", `${base}..HEAD`])).toBe("2");
    expect(readFileSync(join(tree, "drivers/demo/demo.c"), "utf8")).toContain('pr_info("demo: %d queues\\n", demo_queues);');

    const again = await applySeries(input, deps);
    expect(again.output!.reused).toBe(true);
    expect(again.output!.head).toBe(r.output!.head);
  });

  it("names the patch, the file and the hunk that does not apply, and leaves the tree as it was", async () => {
    const input = { treeDir: tree, managed: true, baseCommit: base, patches: patchesOf("demo-conflict"), logFile: join(tree, "..", "series.log") };
    const r = await applySeries(input, deps);
    expect(r.status).toBe("fail");
    expect(r.reason).toBe(
      "patch 1/1 0001-demo-four-queues-and-a-goodbye.patch does not apply: drivers/demo/demo.c, hunk #2 (@@ -10,6 +10,7 @@): does not apply to drivers/demo/demo.c",
    );
    expect(r.details).toContain("subject: demo: four queues and a goodbye");
    const state = await treeState(exec, tree);
    expect(state).toMatchObject({ head: base, dirty: null });
    expect(await git(exec, tree, ["am", "--show-current-patch"], { allowFailure: true }).then((x) => x.exitCode)).not.toBe(0);
  });

  it("refuses a user's tree with local changes", async () => {
    const { writeFileSync } = await import("node:fs");
    writeFileSync(join(tree, "drivers/demo/demo.c"), "changed\n");
    const input = { treeDir: tree, managed: false, baseCommit: base, patches: patchesOf("demo-good"), logFile: join(tree, "..", "series.log") };
    await expect(applySeries(input, deps)).rejects.toThrow(/has local changes/);
  });
});
