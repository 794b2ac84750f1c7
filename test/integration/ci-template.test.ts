// The GitHub Actions template is data a kernel repository copies: it must parse, run the boot test on
// push, bisect only when main turns red, upload the run folders, and use only flags the CLI has.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { repoRoot } from "../../harness/lib/paths.ts";

const file = join(repoRoot, "ci-templates/github-actions/kernel-boot-test.yml");
const workflow = parse(readFileSync(file, "utf8"));
const steps: { name?: string; run?: string; if?: string; uses?: string; with?: Record<string, unknown> }[] = workflow.jobs["boot-test"].steps;
const step = (name: RegExp) => steps.find((s) => s.name && name.test(s.name))!;

async function helpOf(command: string): Promise<string> {
  return (await execa("npx", ["tsx", "harness/cli/main.ts", command, "--help"], { cwd: repoRoot })).stdout;
}

describe("ci-templates/github-actions/kernel-boot-test.yml", () => {
  it("boots on every push to main, bisects only after a failure with a green commit to start from", () => {
    expect(workflow.on.push.branches).toEqual(["main"]);
    expect(step(/^Kernel tree/).with).toMatchObject({ "fetch-depth": 0 });
    expect(step(/^Boot test/).run).toMatch(/npm run boot-test -- --tree "\$GITHUB_WORKSPACE\/linux" --no-series/);
    expect(step(/^Last green/).if).toContain("failure()");
    expect(step(/^Bisect/).if).toContain("steps.green.outputs.sha != ''");
    expect(step(/^Run folders/)).toMatchObject({ if: "always()", uses: "actions/upload-artifact@v4" });
  });

  it("uses only flags the harness has", async () => {
    const flags = (text: string) => [...text.matchAll(/\s(--[a-z][a-z-]*)/g)].map((m) => m[1]!);
    const boot = await helpOf("boot-test");
    for (const f of flags(step(/^Boot test/).run!)) expect(boot, f).toContain(f);
    const bisect = await helpOf("bisect");
    for (const f of flags(step(/^Bisect/).run!).filter((f) => !f.startsWith("--detach"))) expect(bisect, f).toContain(f);
  });
});
