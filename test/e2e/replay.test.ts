// A run folder replays the run it records: after another series was built on the same tree (which
// rewrites the shared build dir), `replay` boots the first run's own kernel and initramfs from the
// artifact store and runs its tests again; reproduce.sh starts with the command line the run was given.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../harness/lib/paths.ts";
import { cli, COLD_KERNEL, runJson } from "./cli.ts";

const json = (dir: string, file = "manifest.json") => runJson(dir, file);
const linuxVersion = (dir: string) => /Linux version .*/.exec(readFileSync(join(dir, "console.log"), "utf8"))?.[0];
const otherSeries = join(repoRoot, "test/fixtures/series/bisect-test-crash");

describe("replay and reproduce", () => {
  it("replay boots the recorded kernel, not the one the build dir holds now", COLD_KERNEL, async () => {
    const first = await cli("boot-test", "--tests", "baseline", "--quiet");
    expect(first.exitCode, first.output).toBe(0);
    const firstImage = json(first.runDir).artifacts.Image;
    // the harness line is the command line as given
    expect(readFileSync(join(first.runDir, "reproduce.sh"), "utf8")).toMatch(/npm run boot-test -- --tests baseline --quiet/);

    // another series on the same tree: the build dir now holds another kernel
    const other = await cli("build-kernel", "--series", otherSeries, "--tests", "baseline", "--quiet");
    expect(other.exitCode, other.output).toBe(0);
    expect(json(other.runDir).artifacts.Image.sha256).not.toBe(firstImage.sha256);
    expect(readFileSync(join(other.runDir, "reproduce.sh"), "utf8")).toContain(`npm run build-kernel -- --series ${otherSeries} --tests baseline --quiet`);

    const replay = await cli("replay", first.runDir, "--quiet");
    expect(replay.exitCode, replay.output).toBe(0);
    const m = json(replay.runDir);
    expect(m.replayOf).toBe(first.runDir);
    expect(m.artifacts.Image).toEqual(firstImage);
    const argv = json(replay.runDir, "qemu.argv.json") as string[];
    expect(argv[argv.indexOf("-kernel") + 1]).toBe(firstImage.path);
    // the guest ran the first run's kernel: same build (its "#N" counts builds in the build dir)
    expect(linuxVersion(replay.runDir)).toBe(linuxVersion(first.runDir));
    const r = json(replay.runDir, "results.json");
    expect(r.tests.map((t: { name: string; status: string }) => `${t.name}:${t.status}`)).toEqual(
      json(first.runDir, "results.json").tests.map((t: { name: string }) => `${t.name}:pass`),
    );

    // a stored artifact that is gone: replay says which, exit 3 (the broken copy lives outside runs/, and goes)
    const broken = mkdtempSync(join(tmpdir(), "wdh-replay-broken-"));
    try {
      const manifest = json(first.runDir);
      manifest.artifacts.Image.path = manifest.artifacts.Image.path.replace(/[0-9a-f]{24}-Image$/, "000000000000000000000000-Image");
      writeFileSync(join(broken, "manifest.json"), JSON.stringify(manifest));
      const gone = await cli("replay", broken);
      expect(gone.exitCode, gone.output).toBe(3);
      expect(gone.output).toMatch(/the artifact store no longer has what .* booted: Image/);
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  });
});
