import { readFileSync, readdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { Ajv } from "ajv";
import addFormatsModule from "ajv-formats";
import { repoRoot } from "../../lib/paths.ts";
import { kcidbForRunFolder, kcidbOf, kcidbOptionsFrom, patchsetHash, treeNameOf, writeKcidb, type KcidbDocument, type KcidbTest } from "./kcidb.ts";

const schemaFile = join(repoRoot, "test", "fixtures", "kcidb-schema", "schema-v5.3.json");
const fixtures = join(repoRoot, "test", "fixtures", "kcidb");
// ajv-formats is CommonJS: its default export arrives wrapped under ESM.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (a: Ajv) => Ajv;

function validator() {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  return ajv.compile(JSON.parse(readFileSync(schemaFile, "utf8")));
}
const validate = validator();
const valid = (doc: unknown) => {
  const ok = validate(doc);
  return ok ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
};
const opts = { origin: "warpdrive" };
const folder = (name: string) => kcidbForRunFolder(join(fixtures, name), opts);
const byPath = (doc: KcidbDocument) => new Map(doc.tests.map((t) => [t.path, t] as [string, KcidbTest]));

describe("kcidb.json", () => {
  it("the validator knows the schema: the shared minimal document passes, a broken one does not", () => {
    const minimal = JSON.parse(readFileSync(join(repoRoot, "test", "fixtures", "kcidb-schema", "minimal-valid.json"), "utf8"));
    expect(valid(minimal)).toEqual([]);
    expect(valid({ ...minimal, tests: [{ ...minimal.tests[0], path: "a/b", status: "pass" }] }).length).toBeGreaterThan(0);
  });

  it("every saved run folder gives a document that validates against v5.3", () => {
    for (const name of readdirSync(fixtures)) expect([name, valid(folder(name))]).toEqual([name, []]);
  });

  it("a passing run: checkout, build and a PASS per guest test, stage and benchmark figure", () => {
    const doc = folder("pass-warpdrive");
    const [ck] = doc.checkouts;
    expect(ck).toMatchObject({ origin: "warpdrive", tree_name: "debian-6.12", valid: true, start_time: "2026-12-01T15:51:34.247Z" });
    expect(ck!.git_commit_hash).toBeUndefined(); // the Debian base commit is the harness's own
    expect(ck!.misc).toMatchObject({ base_commit: "d5c70bb7839e0605cdb36aa3ca2c1929d587d226" });
    expect(ck!.id).toMatch(/^warpdrive:checkout\.[0-9a-f]{16}$/);
    const [b] = doc.builds;
    expect(b).toMatchObject({
      checkout_id: ck!.id,
      architecture: "arm64",
      config_name: "allnoconfig+base+ssh+pci-virtio+iommu+crypto+uacce+debug",
      compiler: "aarch64-linux-gnu-gcc (Debian 12.2.0-14) 12.2.0",
      status: "PASS",
    });
    expect(b!.duration).toBeCloseTo(93.236, 2);
    const tests = byPath(doc);
    expect([...tests.keys()]).toEqual(
      expect.arrayContaining(["boot", "boot.ssh", "rootfs", "checkpatch", "shutdown", "baseline.smmu-probed", "warpdrive.bench", "warpdrive.isolation"]),
    );
    expect([...tests.values()].every((t) => t.status === "PASS" && t.build_id === b!.id)).toBe(true);
    expect(tests.get("warpdrive.seccomp-strict.user_queue.strict.64B.req_per_s")).toMatchObject({ status: "PASS", number: { value: 11023, unit: "req/s" } });
    expect(tests.get("boot")!.environment).toEqual({
      comment: "qemu virt,iommu=smmuv3,gic-version=3 cortex-a57 TCG",
      misc: { platform: "qemu-arm64", machine: "virt-smmuv3" },
    });
    // qemu-* stages skipped because the host's QEMU ran: not applicable, not reported
    expect(tests.has("qemu.build")).toBe(false);
    expect(new Set(doc.tests.map((t) => t.id)).size).toBe(doc.tests.length);
  });

  it("patchset_hash is KCIDB's: sha256sum *.patch | cut -c-64 | sha256sum, and empty without patches", () => {
    const dir = mkdtempSync(join(tmpdir(), "kcidb-"));
    const manifest = JSON.parse(readFileSync(join(fixtures, "pass-warpdrive", "manifest.json"), "utf8"));
    // The patch files have moved on since that run: the digests sha256sum printed then are in its manifest,
    // so the second half of the pipeline runs on them (sha256sum *.patch | cut -c-64 gives those lines).
    const digests = (manifest.series.patches as { sha256: string }[]).map((p) => p.sha256);
    const shell = execFileSync("sh", ["-c", `printf '%s\\n' "$@" | sha256sum | cut -c-64`, "sh", ...digests], { cwd: dir })
      .toString()
      .trim();
    expect(folder("pass-warpdrive").checkouts[0]!.patchset_hash).toBe(shell);
    expect(patchsetHash([])).toBe("");
    expect(folder("pass-sva-built-qemu").checkouts[0]!.patchset_hash).toBe("");
  });

  it("a failing guest test is FAIL with its reason as the excerpt; the build and the others PASS", () => {
    const doc = folder("fail-guest-smmu");
    const tests = byPath(doc);
    expect(tests.get("warpdrive.bench")).toMatchObject({ status: "FAIL" });
    expect(tests.get("warpdrive.bench")!.log_excerpt).toMatch(/unexpected SMMU event F_TRANSLATION/);
    expect(tests.get("warpdrive.unbind")!.status).toBe("PASS");
    expect(doc.builds[0]!.status).toBe("PASS");
  });

  it("a compile error: build FAIL with the compiler's error, no tests", () => {
    const doc = folder("build-error");
    expect(doc.checkouts[0]!.valid).toBe(true);
    expect(doc.builds[0]).toMatchObject({ status: "FAIL" });
    expect(doc.builds[0]!.log_excerpt).toMatch(/fixture_undeclared_counter/);
    expect(doc.tests).toEqual([]);
  });

  it("a patch that does not apply: the checkout is invalid, with the failure, and nothing was built", () => {
    const doc = folder("series-conflict");
    expect(doc.checkouts[0]).toMatchObject({ valid: false });
    expect(doc.checkouts[0]!.log_excerpt).toMatch(/does not apply/);
    // the manifest has no hashes for a series that failed: the writer hashes the patch files it asked for
    const file = join(repoRoot, "test/fixtures/series/demo-conflict/0001-demo-four-queues-and-a-goodbye.patch");
    expect(doc.checkouts[0]!.patchset_hash).toBe(patchsetHash([execFileSync("sha256sum", [file]).toString().slice(0, 64)]));
    expect(doc.builds).toEqual([]);
    const results = JSON.parse(readFileSync(join(fixtures, "series-conflict", "results.json"), "utf8"));
    const manifest = JSON.parse(readFileSync(join(fixtures, "series-conflict", "manifest.json"), "utf8"));
    expect(kcidbOf(results, manifest, opts).checkouts[0]!.patchset_hash).toBeUndefined(); // unknown, not "no patches"
  });

  it("an infrastructure failure (SSH lost): that stage ERROR, the guest tests MISS", () => {
    const tests = byPath(folder("infra-ssh"));
    expect(tests.get("boot")!.status).toBe("PASS");
    expect(tests.get("boot.ssh")).toMatchObject({ status: "ERROR" });
    expect(tests.get("baseline.smmu-probed")!.status).toBe("MISS");
  });

  it("a kernel that dies at boot: boot FAIL with the oops, the guest tests SKIP (the kernel's doing, not the harness's)", () => {
    const tests = byPath(folder("panic-at-boot"));
    expect(tests.get("boot")!.status).toBe("FAIL");
    expect(tests.get("boot")!.log_excerpt).toMatch(/NULL pointer dereference/);
    const guest = [...tests.values()].filter((t) => t.path.startsWith("baseline."));
    expect(guest.length).toBeGreaterThan(0);
    expect(guest.every((t) => t.status === "SKIP")).toBe(true);
  });

  it("a harness-built QEMU: its stages are tests under qemu.", () => {
    const tests = byPath(folder("pass-sva-built-qemu"));
    expect(tests.get("qemu.build")!.status).toBe("PASS");
    expect(folder("pass-sva-built-qemu").checkouts[0]!.tree_name).toBe("debian-7.2");
  });

  it("log_url only where the run folder is published; origin from the environment, checked", () => {
    const o = kcidbOptionsFrom({ WDH_KCIDB_ORIGIN: "my_lab", WDH_KCIDB_LOG_URL: "https://ci.example.org/runs/{run}/" }, "R1");
    expect(o).toEqual({ origin: "my_lab", logUrlBase: "https://ci.example.org/runs/R1", treeName: undefined });
    const doc = kcidbForRunFolder(join(fixtures, "build-error"), o);
    expect(doc.builds[0]!.log_url).toBe("https://ci.example.org/runs/R1/build.log");
    expect(doc.builds[0]!.id.startsWith("my_lab:")).toBe(true);
    expect(valid(doc)).toEqual([]);
    expect(folder("build-error").builds[0]!.log_url).toBeUndefined();
    expect(() => kcidbOptionsFrom({ WDH_KCIDB_ORIGIN: "My-Lab" })).toThrow(/origin/);
    expect(kcidbOptionsFrom({}).origin).toBe("warpdrive");
  });

  it("tree names: Debian package, kernel.org trees, a local folder", () => {
    expect(treeNameOf({ inputs: { tree: { kind: "git", url: "https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git" } } })).toBe("mainline");
    expect(treeNameOf({ inputs: { tree: { kind: "git", url: "https://github.com/me/wd-linux.git" } } })).toBe("wd-linux");
    expect(treeNameOf({ inputs: { tree: { kind: "path", path: "/home/me/src/linux-uacce" } } })).toBe("linux-uacce");
  });

  it("a git tree gives the repository URL, branch and base commit; lore patches give message id and patch URLs", () => {
    const results = JSON.parse(readFileSync(join(fixtures, "pass-warpdrive", "results.json"), "utf8"));
    const manifest = JSON.parse(readFileSync(join(fixtures, "pass-warpdrive", "manifest.json"), "utf8"));
    manifest.inputs.tree = { kind: "git", url: "https://git.kernel.org/pub/scm/linux/kernel/git/stable/linux.git", ref: "linux-6.12.y", depth: 1 };
    delete manifest.tree.debian;
    manifest.series.patches = manifest.series.patches.map((p: { provenance: unknown }, i: number) => ({
      ...p,
      provenance: {
        kind: "lore",
        url: `https://lore.kernel.org/all/2026-${i}@example.org/raw`,
        messageId: `<2026-${i}@example.org>`,
        part: `${i}`,
        thread: "t",
        fromCache: true,
      },
    }));
    const doc = kcidbOf(results, manifest, opts);
    expect(doc.checkouts[0]).toMatchObject({
      tree_name: "stable",
      git_repository_url: "https://git.kernel.org/pub/scm/linux/kernel/git/stable/linux.git",
      git_repository_branch: "linux-6.12.y",
      git_commit_hash: "d5c70bb7839e0605cdb36aa3ca2c1929d587d226",
      message_id: "2026-0@example.org",
    });
    expect(doc.checkouts[0]!.patchset_files).toHaveLength(5);
    expect(valid(doc)).toEqual([]);
  });

  it("writeKcidb writes kcidb.json into the run folder", () => {
    const dir = mkdtempSync(join(tmpdir(), "kcidb-"));
    const results = JSON.parse(readFileSync(join(fixtures, "pass-warpdrive", "results.json"), "utf8"));
    const manifest = JSON.parse(readFileSync(join(fixtures, "pass-warpdrive", "manifest.json"), "utf8"));
    writeKcidb(dir, results, manifest, opts);
    expect(valid(JSON.parse(readFileSync(join(dir, "kcidb.json"), "utf8")))).toEqual([]);
  });
});
