// suite.yaml: what a test declares it provokes (`expects:`), checked when the suite is loaded.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { UsageError } from "../../lib/errors.ts";
import { loadSuites } from "./suites.ts";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function suite(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), "wdh-suite-"));
  dirs.push(dir);
  writeFileSync(join(dir, "suite.yaml"), yaml);
  writeFileSync(join(dir, "t.sh"), "echo 1..0\n");
  return dir;
}

describe("expects: in suite.yaml", () => {
  it("takes smmu-event alone or narrowed by event, client, sid and ssid", () => {
    const dir = suite(`name: s
tests:
  - { name: any, run: t.sh, expects: [smmu-event] }
  - name: narrowed
    run: t.sh
    expects:
      - smmu-event: { event: F_TRANSLATION, client: "0000:00:03.0" }
      - smmu-event: { event: [F_PERMISSION, F_CD_FETCH], sid: 0x100, ssid: 1 }
  - { name: none, run: t.sh }
`);
    const [s] = loadSuites([dir]);
    expect(s!.def.tests.map((t) => t.expects)).toEqual([
      ["smmu-event"],
      [{ "smmu-event": { event: "F_TRANSLATION", client: "0000:00:03.0" } }, { "smmu-event": { event: ["F_PERMISSION", "F_CD_FETCH"], sid: 0x100, ssid: 1 } }],
      [],
    ]);
  });

  it("refuses an event name the SMMUv3 does not have, and an unknown key (exit 2)", () => {
    const misspelt = suite("name: s\ntests:\n  - { name: t, run: t.sh, expects: [{ smmu-event: { event: F_TRANSLATON } }] }\n");
    expect(() => loadSuites([misspelt])).toThrow(UsageError);
    expect(() => loadSuites([misspelt])).toThrow(/test t expects what cannot happen/);
    const unknown = suite("name: s\ntests:\n  - { name: t, run: t.sh, expects: [{ smmu-event: { device: x } }] }\n");
    expect(() => loadSuites([unknown])).toThrow(UsageError);
    const other = suite("name: s\ntests:\n  - { name: t, run: t.sh, expects: [warning] }\n");
    expect(() => loadSuites([other])).toThrow(UsageError);
  });
});
