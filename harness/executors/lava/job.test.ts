import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { parse } from "yaml";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { MachineSchema } from "../../config/schema.ts";
import { repoRoot } from "../../lib/paths.ts";
import { caseId, jobYaml, lavaJob } from "./job.ts";
import { parseLavaLog, parseLogLine, testOutcomes } from "./log.ts";
import { lavaMachineOf, parseMemoryMiB } from "./machine.ts";
import { LAVA_INIT, lavaRamdisk, readNewc, S_IFREG, writeNewc, type NewcEntry } from "./ramdisk.ts";

const machine = v.parse(MachineSchema, parse(readFileSync(join(repoRoot, "qemu/virt-smmuv3.yaml"), "utf8")));
const baseline = ["smmu-probed", "iommu-groups", "aes-cbc-kat", "kernel-log-clean"].map((name) => ({ suite: "baseline", name }));
const file = (name: string, data: string, mode = S_IFREG | 0o644): NewcEntry => ({
  name,
  mode,
  uid: 0,
  gid: 0,
  nlink: 1,
  mtime: 1,
  devmajor: 0,
  devminor: 0,
  rdevmajor: 0,
  rdevminor: 0,
  data: Buffer.from(data),
});

describe("LAVA job definition", () => {
  it("the machine file as the qemu device type's context: devices kept at their addresses, LAVA's NIC made like ours", () => {
    const m = lavaMachineOf(machine, ["virtio_crypto.uacce_devices=0000:00:03.0"]);
    expect(m).toMatchObject({ machine: "virt,iommu=smmuv3,gic-version=3", cpu: "cortex-a57", memory: 1024, smp: 2, nicModel: "model=virtio-net-pci,addr=0x1" });
    expect(m.append.at(-1)).toBe("virtio_crypto.uacce_devices=0000:00:03.0");
    expect(m.extraOptions).toContain("-global virtio-net-pci.iommu_platform=on");
    expect(m.extraOptions).toContain("-no-reboot");
    expect(m.extraOptions).toContain(
      "-device virtio-crypto-pci,id=crypto1,cryptodev=crypto1-backend,addr=0x3,iommu_platform=on,disable-legacy=on,page-per-vq=on",
    );
    expect(m.extraOptions.some((o) => /-kernel|-initrd|-append|-netdev|-machine|hostfwd/.test(o))).toBe(false);
    expect(parseMemoryMiB("2G")).toBe(2048);
  });

  it("the shape that runs tests without libguestfs, and the suites as inline definitions (the job that passed under lava-run)", () => {
    const input = {
      jobName: "wdh baseline",
      kernelUrl: "file:///root/.cache/warpdrive-harness/store/05fa1b1c20ba638b223f2944-Image",
      ramdiskUrl: "file:///tmp/lavaw/ramdisk.cpio.gz",
      machine: lavaMachineOf(machine, ["virtio_crypto.uacce_devices=0000:00:03.0"]),
      tests: [
        { suite: "baseline", name: "smmu-probed", command: ["sh", "smmu-probed.sh"], timeoutSeconds: 20 },
        { suite: "baseline", name: "iommu-groups", command: ["sh", "iommu-groups.sh"], timeoutSeconds: 20 },
        { suite: "baseline", name: "aes-cbc-kat", command: ["./aes-cbc-kat"], timeoutSeconds: 30 },
        { suite: "baseline", name: "kernel-log-clean", command: ["sh", "kernel-log-clean.sh"], timeoutSeconds: 20 },
      ],
    };
    const job = lavaJob(input) as { actions: Record<string, Record<string, unknown>>[]; context: Record<string, unknown> };
    const deploy = job.actions[0]!.deploy as { to: string; os: string; images: { ramdisk: Record<string, unknown>; kernel: Record<string, unknown> } };
    expect(deploy).toMatchObject({ to: "tmpfs", os: "oe" });
    expect(deploy.images.ramdisk).toMatchObject({ format: "cpio.newc", compression: "gz", overlays: { lava: true } });
    expect(deploy.images.kernel.type).toBeUndefined(); // strict validation refuses `type: image`
    expect(job.actions[1]!.boot).toMatchObject({ method: "qemu", media: "tmpfs", prompts: ["/ # "] });
    expect(parse(jobYaml(input))).toEqual(parse(readFileSync(join(repoRoot, "test/fixtures/lava/job-baseline.yaml"), "utf8")));
  });

  it("test case ids LAVA accepts", () => {
    expect(caseId("user_queue.strict.64B.req_per_s")).toBe("user_queue.strict.64B.req_per_s");
    expect(caseId("a b/c")).toBe("a_b_c");
  });
});

describe("the ramdisk", () => {
  it("merges concatenated newc archives (later entries win) and replaces /init", () => {
    const a = writeNewc([file("init", "old"), file("bin/sh", "busybox")]);
    const b = writeNewc([file("opt/wdh/baseline/t.sh", "echo ok")]);
    const c = writeNewc([file("bin/sh", "newer")]);
    const merged = readNewc(Buffer.concat([a, b, c]));
    expect(merged.map((e) => [e.name, e.data.toString()])).toEqual([
      ["init", "old"],
      ["opt/wdh/baseline/t.sh", "echo ok"],
      ["bin/sh", "newer"],
    ]);
    const rd = readNewc(gunzipSync(lavaRamdisk(Buffer.concat([a, b]))));
    expect(rd.find((e) => e.name === "init")!.data.toString()).toBe(LAVA_INIT);
    expect(rd.find((e) => e.name === "opt/wdh/baseline/t.sh")).toBeDefined();
    expect(() => readNewc(Buffer.from("garbage"))).toThrow(/not a newc archive/);
  });
});

describe("lava-run's log", () => {
  const text = readFileSync(join(repoRoot, "test/fixtures/lava/lava-run-baseline-pass.log"), "utf8");
  it("a real run: the console as it arrived, each baseline test passing, the job complete", () => {
    const log = parseLavaLog(text);
    expect(log.job).toBe("pass");
    expect(log.console.some((l) => l.includes("arm-smmu-v3 9050000.smmuv3: ias 44-bit"))).toBe(true);
    expect(log.console.some((l) => l.includes("wdh: test-begin baseline/smmu-probed#62"))).toBe(true);
    expect(log.console.some((l) => l.startsWith("<LAVA_SIGNAL"))).toBe(false);
    const outcomes = testOutcomes(log, baseline, caseId);
    expect(outcomes.map((o) => o.status)).toEqual(["pass", "pass", "pass", "pass"]);
    expect(outcomes[0]!.points.length).toBe(3);
  });
  it("YAML lines with tags, a lab's list form, measurements, a job that did not finish", () => {
    expect(parseLogLine('{"lvl": "results", "msg": {"case": "x", "endtc": ! "3", "result": "pass"}}')?.msg).toMatchObject({ case: "x", endtc: "3" });
    expect(parseLogLine('- {dt: "t", lvl: target, msg: "hello"}')).toMatchObject({ lvl: "target", msg: "hello" });
    const log = parseLavaLog(
      [
        '{"lvl": "results", "msg": {"case": "bench", "definition": "1_warpdrive", "result": "pass"}}',
        '{"lvl": "results", "msg": {"case": "bench.user_queue.64B.req_per_s", "definition": "1_warpdrive", "result": "pass", "measurement": "25000.0", "units": "req/s"}}',
        '{"lvl": "error", "msg": "lava-test-shell timed out"}',
        '{"lvl": "results", "msg": {"case": "job", "definition": "lava", "result": "fail", "error_msg": "bootloader timed out", "error_type": "Infrastructure"}}',
      ].join("\n"),
    );
    expect(log.job).toBe("fail");
    expect(log.errors).toContain("lava-test-shell timed out");
    const [bench, unbind] = testOutcomes(
      log,
      [
        { suite: "warpdrive", name: "bench" },
        { suite: "warpdrive", name: "unbind" },
      ],
      caseId,
    );
    expect(bench!.metrics).toEqual({ "user_queue.64B.req_per_s": { value: 25000, unit: "req/s" } });
    expect(unbind!.status).toBe("skip");
  });
});
