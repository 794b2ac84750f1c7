import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../lib/paths.ts";
import { parseTap, tapVerdict } from "./tap.ts";

const fixture = (name: string) => readFileSync(join(repoRoot, "test/fixtures/tap", name), "utf8");
const tap = (...lines: string[]) => lines.join("\n") + "\n";

describe("parseTap on fixtures", () => {
  it("reads kselftest output: points, SKIP directive, diagnostics, Totals", () => {
    const r = parseTap(fixture("kselftest.tap"));
    expect(r.version).toBe("TAP version 13");
    expect(r.plan).toEqual({ count: 3 });
    expect(r.problems).toEqual([]);
    expect(r.points.map((p) => [p.number, p.name, p.status])).toEqual([
      [1, "global.ecb_aes_encrypt", "pass"],
      [2, "global.ecb_aes_decrypt", "fail"],
      [3, "global.gcm_aes", "skip"],
    ]);
    expect(r.points[2]!.directive).toBe("SKIP gcm(aes) not available");
    // kselftest_harness prints a test's lines before its result line: they follow the previous point.
    expect(r.points[0]!.diagnostics).toContain("aes_kat.c:88:ecb_aes_decrypt:Expected 0 (0) == memcmp(out, kat->pt, 16) (-1)");
    expect(r.diagnostics).toEqual([
      "Starting 3 tests from 1 test cases.",
      " RUN           global.ecb_aes_encrypt ...",
      "           OK  global.ecb_aes_encrypt",
      "Totals: pass:1 fail:1 xfail:0 xpass:0 skip:1 error:0",
    ]);
    expect(r.points[2]!.diagnostics).toEqual(["FAILED: 1 / 3 tests passed."]);
    expect(tapVerdict(r, 1)).toEqual({ status: "fail", reason: "1 of 3 points failed: global.ecb_aes_decrypt" });
  });

  it("reads KUnit KTAP with nested subtests, headers and suite stats", () => {
    const r = parseTap(fixture("kunit.ktap"));
    expect(r.version).toBe("KTAP version 1");
    expect(r.plan).toEqual({ count: 1 });
    expect(r.problems).toEqual([]);
    expect(r.points).toHaveLength(1);
    const suite = r.points[0]!;
    expect(suite).toMatchObject({ number: 1, name: "example", status: "pass" });
    expect(suite.diagnostics).toEqual([
      "Subtest: example",
      "module: kunit_example_test",
      "example_simple_test: initializing",
      "example_simple_test: cleaning up",
      "example: pass:2 fail:0 skip:2 total:4",
      "Totals: pass:4 fail:0 skip:4 total:8",
    ]);
    expect(suite.subtests!.map((p) => [p.number, p.name, p.status])).toEqual([
      [1, "example_simple_test", "pass"],
      [2, "example_skip_test", "skip"],
      [3, "example_mark_skipped_test", "skip"],
      [4, "example_params_test", "pass"],
    ]);
    expect(suite.subtests![0]!.diagnostics).toEqual([
      "example_skip_test: initializing",
      "example_skip_test: You should not see a line below.",
      "example_skip_test: cleaning up",
    ]);
    const params = suite.subtests![3]!;
    expect(params.diagnostics).toEqual(["Subtest: example_params_test", "example_params_test: pass:2 fail:0 skip:2 total:4"]);
    expect(params.subtests!.map((p) => p.status)).toEqual(["skip", "pass", "pass", "skip"]);
    expect(params.subtests![0]!.directive).toBe("SKIP unsupported param value 3");
    expect(tapVerdict(r, 0)).toEqual({ status: "pass" });
  });

  it("reports truncated output (the guest crashed) as a plan mismatch", () => {
    const r = parseTap(fixture("truncated.tap"));
    expect(r.points.map((p) => p.status)).toEqual(["pass", "pass"]);
    expect(r.points[0]!.diagnostics).toEqual(["driver: cbc-aes-virtio, priority 150"]);
    expect(r.problems).toEqual(["plan said 4, saw 2"]);
    expect(tapVerdict(r, null)).toEqual({ status: "fail", reason: "plan said 4, saw 2" });
  });

  it("reads a bail out, without blaming the unmet plan", () => {
    const r = parseTap(fixture("bail-out.tap"));
    expect(r.bailOut).toBe("cannot open /dev/vfio/vfio: No such device");
    expect(r.problems).toEqual([]);
    expect(r.points).toHaveLength(1);
    expect(r.points[0]!.diagnostics).toEqual(["the remaining tests need VFIO"]);
    expect(tapVerdict(r, 0)).toEqual({ status: "fail", reason: "bailed out: cannot open /dev/vfio/vfio: No such device" });
  });

  it("reads CR LF line ends, a TODO point and a YAML block", () => {
    const text = fixture("crlf.tap");
    expect(text).toContain("\r\n");
    const r = parseTap(text);
    expect(r.version).toBe("TAP version 14");
    expect(r.problems).toEqual([]);
    expect(r.points.map((p) => [p.number, p.name, p.status])).toEqual([
      [1, "key setup", "pass"],
      [2, "xts(aes) with ciphertext stealing", "todo"],
      [3, "encrypt matches F.5.1", "pass"],
    ]);
    expect(r.points[1]!.directive).toBe("TODO not implemented by the device");
    expect(r.points[1]!.diagnostics).toEqual(["  ---", "  message: returns -EINVAL", "  ..."]);
    expect(JSON.stringify(r)).not.toContain("\\r");
    expect(tapVerdict(r, 0)).toEqual({ status: "pass" });
  });

  it("keeps garbage as diagnostics and says there was no TAP", () => {
    const r = parseTap(fixture("garbage.txt"));
    expect(r.points).toEqual([]);
    expect(r.diagnostics).toHaveLength(4);
    expect(r.diagnostics[2]).toBe("okay, retrying");
    expect(r.problems).toEqual(["no TAP output (no plan and no test points)"]);
    expect(tapVerdict(r, 0)).toEqual({ status: "fail", reason: "no TAP output (no plan and no test points)" });
  });
});

describe("parseTap consistency problems", () => {
  it("no output at all", () => {
    expect(parseTap("").problems).toEqual(["no output"]);
    expect(parseTap("\n  \r\n").problems).toEqual(["no output"]);
  });

  it("no plan", () => {
    expect(parseTap(tap("ok 1 - a", "ok 2 - b")).problems).toEqual(["no plan (1..N)"]);
  });

  it("accepts a trailing plan and unnumbered points", () => {
    const r = parseTap(tap("ok - a", "not ok - b # TODO later", "ok", "1..3"));
    expect(r.problems).toEqual([]);
    expect(r.points.map((p) => [p.number, p.name, p.status])).toEqual([
      [1, "a", "pass"],
      [2, "b", "todo"],
      [3, "", "pass"],
    ]);
  });

  it("duplicate and out-of-order numbers", () => {
    const r = parseTap(tap("1..4", "ok 1 a", "ok 3 c", "ok 2 b", "ok 2 b"));
    expect(r.problems).toEqual(["test 3 out of order (expected 2)", "test 2 out of order (expected 4)", "test number 2 appears twice"]);
  });

  it("a second plan or version line", () => {
    const r = parseTap(tap("TAP version 13", "1..1", "ok 1 a", "TAP version 13", "1..1"));
    expect(r.problems).toEqual(['unexpected "TAP version 13" after the start of the output', "more than one plan"]);
  });

  it("a subtest block cut off by a crash", () => {
    const r = parseTap(tap("KTAP version 1", "1..1", "    KTAP version 1", "    # Subtest: smmu", "    1..3", "    ok 1 map", "    not ok 2 unmap"));
    expect(r.points).toEqual([]);
    expect(r.problems).toEqual(["subtest smmu has no result line (1 of its points failed)", "smmu: plan said 3, saw 2", "plan said 1, saw 0"]);
  });

  it("an ok suite with a failing subtest", () => {
    const r = parseTap(tap("KTAP version 1", "1..1", "  KTAP version 1", "  1..1", "  not ok 1 inner", "ok 1 outer"));
    expect(r.points[0]!.subtests![0]!.status).toBe("fail");
    expect(r.problems).toEqual(['outer: "ok" but a subtest failed']);
  });

  it("TAP 14 subtests with the # Subtest: line at the parent's indent", () => {
    const r = parseTap(tap("TAP version 14", "1..2", "ok 1 - first", "# Subtest: second", "    1..1", "    ok 1 - inner", "ok 2 - second"));
    expect(r.problems).toEqual([]);
    expect(r.points[0]!.diagnostics).toEqual([]);
    expect(r.points[1]).toMatchObject({ name: "second", diagnostics: ["Subtest: second"], subtests: [{ name: "inner", status: "pass" }] });
  });

  it("nested problems are named after their point", () => {
    const r = parseTap(tap("1..1", "    1..2", "    ok 1 a", "not ok 1 suite"));
    expect(r.problems).toEqual(["suite: plan said 2, saw 1"]);
  });

  it("unknown lines follow the current point", () => {
    const r = parseTap(tap("1..2", "ok 1 a", "some stderr noise", "# diag", "ok 2 b"));
    expect(r.points[0]!.diagnostics).toEqual(["some stderr noise", "diag"]);
  });
});

describe("tapVerdict", () => {
  const twoOk = parseTap(tap("TAP version 13", "1..2", "ok 1 - a", "ok 2 - b"));

  it("passes clean output with exit 0, fails it on another exit code", () => {
    expect(tapVerdict(twoOk, 0)).toEqual({ status: "pass" });
    expect(tapVerdict(twoOk, 1)).toEqual({ status: "fail", reason: "exit code 1" });
    expect(tapVerdict(twoOk, 4)).toEqual({ status: "fail", reason: "exit code 4" });
    expect(tapVerdict(twoOk, null)).toMatchObject({ status: "fail" });
  });

  it("skips on a skip-all plan, with kselftest's exit code 4", () => {
    const r = parseTap(tap("TAP version 13", "1..0 # SKIP no virtio-crypto device"));
    expect(r.plan).toEqual({ count: 0, skipAll: "no virtio-crypto device" });
    expect(r.problems).toEqual([]);
    expect(tapVerdict(r, 4)).toEqual({ status: "skip", reason: "skipped: no virtio-crypto device" });
    expect(tapVerdict(r, 0)).toEqual({ status: "skip", reason: "skipped: no virtio-crypto device" });
    expect(tapVerdict(r, 1)).toEqual({ status: "fail", reason: "exit code 1" });
  });

  it("skips when every point skipped", () => {
    const r = parseTap(tap("1..2", "ok 1 a # SKIP no device", "ok 2 b # SKIP no device"));
    expect(tapVerdict(r, 0)).toEqual({ status: "skip", reason: "all 2 points skipped: no device" });
    expect(tapVerdict(r, 4)).toEqual({ status: "skip", reason: "all 2 points skipped: no device" });
  });

  it("does not count a TODO not ok as a failure", () => {
    const r = parseTap(tap("1..2", "ok 1 a", "not ok 2 b # TODO known broken"));
    expect(tapVerdict(r, 0)).toEqual({ status: "pass" });
  });

  it("names failed points, at most three, then problems", () => {
    const r = parseTap(tap("1..6", "not ok 1 a", "not ok 2 b", "ok 3 c", "not ok 4 d", "not ok 5 e"));
    expect(tapVerdict(r, 1)).toEqual({ status: "fail", reason: "4 of 5 points failed: a, b, d, ...; plan said 6, saw 5" });
  });
});
