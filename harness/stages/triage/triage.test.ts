// Console triage against saved arm64 console logs (test/fixtures/console), one per kind of report.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Exec, ExecOptions } from "../../lib/exec.ts";
import { repoRoot } from "../../lib/paths.ts";
import { decodeStack } from "./decode.ts";
import { PATTERNS } from "./patterns.ts";
import { ConsoleTriage, isFailure, summarize, triageLog, type Finding } from "./triage.ts";

const fixtureDir = join(repoRoot, "test/fixtures/console");
const fixture = (name: string) => readFileSync(join(fixtureDir, name), "utf8");
const triage = (name: string) => triageLog(fixture(name));
/**
 * The console of a run of test/fixtures/guest-tests/provoke-reports (scripts/capture-console-fixtures):
 * LKDTM and friends provoke one report per test on a kernel that survives them.
 */
const provoked = triageLog(fixture("provoked-reports-6.12.log"));
/** Its reports' ids and titles, as a kernel developer reading the console would name them. */
const PROVOKED: [string, string][] = [
  ["hung-task", "INFO: task sh:78 blocked for more than 5 seconds"],
  ["warning", "WARNING in lkdtm_WARNING (drivers/misc/lkdtm/bugs.c:112)"],
  ["bug-sleeping-in-atomic", "BUG: sleeping function called from invalid context at kernel/locking/mutex.c:586"],
  ["bug-scheduling-while-atomic", "BUG: scheduling while atomic"],
  ["lockdep", "WARNING: suspicious RCU usage"],
  ["lockdep", "WARNING: suspicious RCU usage"],
  ["bug-scheduling-while-atomic", "BUG: scheduling while atomic"],
  ["bug-at", "kernel BUG at drivers/misc/lkdtm/bugs.c:105!"],
  ["warning", "WARNING in ct_kernel_exit.constprop.0 (kernel/context_tracking.c:128)"],
  ["oops-null-deref", "Unable to handle kernel NULL pointer dereference in lkdtm_EXCEPTION"],
  ["oops-user-access", "Unable to handle kernel execution of user memory"],
  ["oops-die", "Internal error: Oops - Undefined instruction in lkdtm_UNDEFINED"],
  ["oops-permission", "Unable to handle kernel write to read-only memory in lkdtm_WRITE_RO"],
  ["ubsan", "UBSAN: array-index-out-of-bounds in drivers/misc/lkdtm/bugs.c:454"],
  ["kfence", "KFENCE: use-after-free read in lkdtm_KFENCE_READ_AFTER_FREE"],
  ["oom-kill", "Out of memory: Killed process (tail)"],
  ["rcu-stall", "rcu: INFO: rcu_sched detected stalls on CPUs/tasks"],
  ["hard-lockup", "Watchdog detected hard LOCKUP on cpu 1"],
  ["rcu-stall", "rcu: INFO: rcu_sched detected stalls on CPUs/tasks"],
];
const only = (findings: Finding[]) => {
  expect(findings).toHaveLength(1);
  return findings[0]!;
};

describe("a real run: a process's page table overwritten (warpdrive/bench after warpdrive/freeze on QEMU 10.2.2)", () => {
  // Saved as it came from run 20261207T204159-boot-test-24864 (the sva-emulation job in the test suite):
  // madvise() found a present PTE holding 0x41, pfn 0, whose struct page does not exist.
  it("is the oops in unmap_page_range, made fatal by the panic after it", () => {
    const t = new ConsoleTriage();
    for (const line of fixture("pte-corrupted-after-freeze-qemu10.log").split("\n")) t.feed(line);
    t.finish();
    expect(t.findings.filter(isFailure).map((f) => f.title)).toEqual([
      "Unable to handle kernel paging request in unmap_page_range",
      "Kernel panic - not syncing: Oops: Fatal exception",
    ]);
    expect(t.fatal?.title).toBe("Unable to handle kernel paging request in unmap_page_range");
    expect(t.fatal?.stack.slice(0, 3)).toEqual(["unmap_page_range", "zap_page_range_single", "do_madvise"]);
  });
});

describe("clean boot", () => {
  it("has no findings, including TAP lines that mention WARNING and BUG", () => {
    const t = new ConsoleTriage();
    for (const line of fixture("boot-clean-6.12.log").split("\n")) t.feed(line);
    expect(t.finish()).toEqual([]);
    expect(t.findings).toEqual([]);
    expect(t.fatal).toBeUndefined();
  });

  it("ignores userspace and marker lines that look like reports", () => {
    const lines = [
      "ok 3 - WARNING handling",
      "# BUG: not really",
      "not ok 4 - Kernel panic - not syncing: from a test name",
      "    # kunit: BUG: KASAN: expected in this test",
      "[    0.000000] Kernel command line: console=ttyAMA0 oops=panic WARNING: CPU: 0 PID: 1 at x.c:1 f+0x0/0x4",
      "[    0.221590] Run /init as init process",
      "[    5.000000] ------------[ cut here ]------------",
      "[    5.000001] ---[ end trace 0000000000000000 ]---",
      "[    5.000002] ---[ end Kernel panic - not syncing: Oops: Fatal exception ]---",
      "echo Unable to handle kernel NULL pointer dereference",
      "[   12.000000] wdh: test case 'Internal error: Oops' skipped",
    ];
    expect(triageLog(lines.join("\n"))).toEqual([]);
  });
});

describe("NULL pointer dereference oops with oops=panic", () => {
  const findings = triage("oops-null-deref.log");

  it("is one oops report, made fatal by the panic that follows it", () => {
    expect(findings.map((f) => [f.id, f.kind, f.severity])).toEqual([
      ["oops-null-deref", "oops", "fatal"],
      ["panic", "panic", "fatal"],
    ]);
    const [oops, panic] = findings as [Finding, Finding];
    expect(oops.title).toBe("Unable to handle kernel NULL pointer dereference in virtcrypto_probe");
    expect(oops.causedPanic).toBe(true);
    expect(oops.lineIndex).toBe(12);
    expect(oops.timestamp).toBe(0.143157);
    // arm64's die() line belongs to the fault report, which ends at the oops end marker.
    expect(oops.lines.some((l) => l.includes("Internal error: Oops: 0000000096000004 [#1] PREEMPT SMP"))).toBe(true);
    expect(oops.lines[0]).toMatch(/^\[ {4}0\.143157\] Unable to handle kernel NULL pointer dereference/);
    expect(oops.lines.at(-1)).toMatch(/---\[ end trace 0000000000000000 \]---$/);
    expect(oops.stack.slice(0, 3)).toEqual(["virtcrypto_probe", "virtio_dev_probe", "really_probe"]);
    expect(oops.stack.at(-1)).toBe("ret_from_fork");
    expect(oops.signature).toBe(
      "oops: Unable to handle kernel NULL pointer dereference in virtcrypto_probe | virtcrypto_probe < virtio_dev_probe < really_probe",
    );
    expect(panic.title).toBe("Kernel panic - not syncing: Oops: Fatal exception");
    expect(panic.lines.at(-1)).toMatch(/---\[ end Kernel panic - not syncing: Oops: Fatal exception \]---$/);
  });

  it("names the oops, not the panic, as the fatal finding", () => {
    const t = new ConsoleTriage();
    let firedAt: number | undefined;
    fixture("oops-null-deref.log")
      .split("\n")
      .forEach((line, i) => {
        // How a live reader learns the kernel died: the fatal finding comes out of feed().
        if (firedAt === undefined && t.feed(line).some((f) => f === t.fatal)) firedAt = i;
      });
    t.finish();
    expect(t.fatal?.id).toBe("oops-null-deref");
    expect(firedAt).toBe(61); // the "Kernel panic - not syncing" line
  });

  it("summarizes each finding on one line", () => {
    expect(summarize(findings)).toEqual([
      "oops: Unable to handle kernel NULL pointer dereference in virtcrypto_probe (console line 13, caused the panic)",
      "panic: Kernel panic - not syncing: Oops: Fatal exception (console line 62)",
    ]);
  });

  it("gives the same signature to the same crash at other addresses, times and CPUs", () => {
    const rerun = fixture("oops-null-deref.log")
      .replace(/^\[ {4}0\.1(\d+)\]/gm, "[   12.9$1]")
      .replaceAll("0000000000000010", "0000000000000018")
      .replaceAll("ffff8000", "ffffa3c1")
      .replaceAll("CPU: 1 UID: 0 PID: 1 ", "CPU: 0 UID: 0 PID: 1 ")
      .replace("0x35e040800000", "0x1c0fa0e00000");
    const again = triageLog(rerun)[0]!;
    expect(again.timestamp).not.toBe(findings[0]!.timestamp);
    expect(again.signature).toBe(findings[0]!.signature);
  });

  it("gives a different signature when the top frame differs", () => {
    const other = triageLog(fixture("oops-null-deref.log").replaceAll("virtcrypto_probe", "virtcrypto_find_vqs"))[0]!;
    expect(other.signature).not.toBe(findings[0]!.signature);
    expect(other.title).toBe("Unable to handle kernel NULL pointer dereference in virtcrypto_find_vqs");
  });
});

describe("reports that do not stop the kernel", () => {
  it("WARNING: title from the function and file:line, the irq state lines and end trace are its own", () => {
    const w = provoked.find((f) => f.id === "warning")!;
    expect(w).toMatchObject({ kind: "warning", severity: "warning" });
    expect(w.title).toBe("WARNING in lkdtm_WARNING (drivers/misc/lkdtm/bugs.c:112)");
    expect(w.lines[0]).toMatch(/WARNING: CPU: \d PID: \d+ at drivers\/misc\/lkdtm\/bugs.c:112 lkdtm_WARNING\+0x1c\/0x24$/);
    // lockdep's print_irqtrace_events() comes between the Call trace and the end marker
    expect(w.lines.some((l) => l.includes("irq event stamp:"))).toBe(true);
    expect(w.lines.at(-1)).toContain("---[ end trace 0000000000000000 ]---");
    expect(w.stack.slice(0, 3)).toEqual(["lkdtm_WARNING", "direct_entry", "full_proxy_write"]);
    expect(w.signature).toBe("warning: WARNING in lkdtm_WARNING (drivers/misc/lkdtm/bugs.c:N) | lkdtm_WARNING < direct_entry < full_proxy_write");
    expect(isFailure(w)).toBe(true);
  });

  it("KASAN: the access stack only, up to the closing ruler", () => {
    const k = only(triage("kasan-uaf.log"));
    expect(k).toMatchObject({ kind: "kasan", severity: "error", title: "KASAN: slab-use-after-free in wdh_uaf_trigger" });
    expect(k.stack).not.toContain("kfree"); // that is the free stack, not the Call trace
    expect(k.stack).toContain("__asan_report_load8_noabort");
    expect(k.lines.at(-1)).toMatch(/={60,}$/);
    expect(k.lines.some((l) => l.includes("Memory state around the buggy address:"))).toBe(true);
    expect(k.signature).toBe("kasan: KASAN: slab-use-after-free in wdh_uaf_trigger | wdh_uaf_trigger < wdh_test_init < do_one_initcall");
  });

  it("KCSAN: both accesses up to the closing ruler, the first access's stack", () => {
    const k = only(triage("kcsan-data-race.log"));
    expect(k).toMatchObject({ kind: "kcsan", severity: "error", title: "KCSAN: data-race in vcu_get_available_instances / vcu_put_queue" });
    expect(k.stack.slice(0, 2)).toEqual(["vcu_put_queue", "uacce_put_queue"]);
    expect(k.stack).not.toContain("vcu_get_available_instances"); // the second access's stack
    expect(k.lines.some((l) => l.includes("read to 0xffff000004a1c0b8 of 8 bytes by task 199 on cpu 0:"))).toBe(true);
    expect(k.lines.at(-1)).toMatch(/={60,}$/);
    expect(isFailure(k)).toBe(true);
  });

  it("UBSAN: the file as the tree names it (not the build machine's path), generic frames skipped in the signature", () => {
    const u = provoked.find((f) => f.id === "ubsan")!;
    expect(u.lines[0]).toContain("/root/.cache/warpdrive-harness/trees/"); // what the kernel printed
    expect(u.title).toBe("UBSAN: array-index-out-of-bounds in drivers/misc/lkdtm/bugs.c:454");
    expect(u.stack[0]).toBe("dump_backtrace");
    expect(u.signature).toBe("ubsan: UBSAN: array-index-out-of-bounds in drivers/misc/lkdtm/bugs.c:N | lkdtm_ARRAY_BOUNDS < lkdtm_do_action < direct_entry");
    expect(u.lines.at(-1)).toContain("---[ end trace ]---");
  });

  it("RCU stalls, detected by another CPU and self-detected, are located by pc", () => {
    const stalls = triage("rcu-stall.log");
    expect(stalls.map((f) => [f.id, f.title])).toEqual([
      ["rcu-stall", "rcu: INFO: rcu_preempt detected stalls on CPUs/tasks in wdh_spin_nopreempt"],
      ["rcu-self-stall", "rcu: INFO: rcu_preempt self-detected stall on CPU in wdh_spin_nopreempt"],
    ]);
    expect(stalls.every((f) => f.kind === "rcu-stall" && f.stack[0] === "wdh_spin_nopreempt")).toBe(true);
  });

  it("hung task: the sleeping frames are skipped in the signature", () => {
    const h = provoked.find((f) => f.id === "hung-task")!;
    expect(h).toMatchObject({ kind: "hung-task", title: "INFO: task sh:78 blocked for more than 5 seconds" });
    expect(h.stack.slice(0, 2)).toEqual(["__switch_to", "__schedule"]);
    expect(h.signature).toBe("hung-task: INFO: task sh:N blocked for more than N seconds | lkdtm_HUNG_TASK < lkdtm_do_action < direct_entry");
  });

  it("RCU stall whose CPU gave no backtrace: the grace-period kthread's stack is not the stall's", () => {
    // a real run (an earlier capture of provoke-reports): a hard lockup with interrupts off, no NMI
    // backtrace on virt under TCG, then rcu_sched starved and its kthread's stack dumped
    const stalls = triage("rcu-stall-kthread-starved-6.12.log").filter((f) => f.kind === "rcu-stall");
    expect(stalls.length).toBeGreaterThan(0);
    for (const r of stalls) {
      expect(r.title).toBe("rcu: INFO: rcu_sched detected stalls on CPUs/tasks");
      expect(r.stack).toEqual([]);
      expect(r.lines.some((l) => l.includes("RCU grace-period kthread stack dump:"))).toBe(true);
      expect(r.lines.some((l) => l.includes("rcu_gp_fqs_loop+"))).toBe(true); // kept as context
    }
  });

  it("SMMU event: decodes StreamID, event and input address, and is information only", () => {
    const e = only(triage("smmu-event.log"));
    expect(e).toMatchObject({ id: "smmu-event", kind: "smmu-event", severity: "info", lineIndex: 12 });
    expect(e.smmu).toEqual({
      smmu: "9050000.smmuv3",
      format: "raw",
      streamId: 8,
      ssv: false,
      eventId: 0x10,
      eventName: "F_TRANSLATION",
      pciDevice: "0000:00:01.0",
      words: ["0x0000000800000010", "0x0000020000000000", "0x000000000ead0000", "0x0000000000000000"],
      address: "0xead0000",
      access: "write",
      privileged: false,
      instruction: false,
      stage: 1,
      faultClass: "Input address caused fault",
      stall: false,
    });
    expect(e.title).toBe("arm-smmu-v3 9050000.smmuv3: event 0x10 F_TRANSLATION, StreamID 0x8, address 0xead0000");
    expect(e.lines).toHaveLength(5);
    expect(isFailure(e)).toBe(false);
  });

  it("SMMU command queue and global errors are errors", () => {
    expect(triage("smmu-errors.log").map((f) => [f.id, f.severity, f.title])).toEqual([
      ["smmu-cmdq-error", "error", "arm-smmu-v3 9050000.smmuv3: CMDQ error: Illegal command"],
      ["smmu-cmdq-timeout", "error", "arm-smmu-v3 9050000.smmuv3: CMD_SYNC timeout"],
      ["smmu-gerror", "error", "arm-smmu-v3 9050000.smmuv3: unexpected global error reported"],
      ["smmu-queue-overflow", "warning", "arm-smmu-v3 9050000.smmuv3: EVTQ overflow, events lost"],
    ]);
  });
});

describe("reports that end the run", () => {
  it("kernel BUG at: arm64's die() joins it, the panic makes it fatal", () => {
    const findings = triage("provoked-bug-panic-6.12.log");
    // the spinlock's bad magic comes first: that run provoked it before the BUG
    expect(findings.map((f) => f.id)).toEqual(["bug-spinlock", "bug-at", "panic"]);
    const [, bug, panic] = findings as [Finding, Finding, Finding];
    expect(bug).toMatchObject({ id: "bug-at", severity: "fatal", causedPanic: true });
    expect(bug.title).toBe("kernel BUG at drivers/misc/lkdtm/bugs.c:105!");
    expect(bug.lines[1]).toContain("Internal error: Oops - BUG: 00000000f2000800 [#1] SMP");
    expect(bug.stack.slice(0, 3)).toEqual(["lkdtm_BUG", "direct_entry", "full_proxy_write"]);
    expect(panic.title).toBe("Kernel panic - not syncing: Oops - BUG: Fatal exception");
  });

  it("the same BUG on a kernel that survives oopses is an error, not fatal", () => {
    const bug = provoked.find((f) => f.id === "bug-at")!;
    expect(bug).toMatchObject({ severity: "error", title: "kernel BUG at drivers/misc/lkdtm/bugs.c:105!" });
    expect(bug.causedPanic).toBeUndefined();
  });

  it("soft lockup with softlockup_panic", () => {
    const t = new ConsoleTriage();
    for (const line of fixture("soft-lockup.log").split("\n")) t.feed(line);
    t.finish();
    expect(t.findings.map((f) => f.kind)).toEqual(["soft-lockup", "panic"]);
    expect(t.fatal?.title).toBe("BUG: soft lockup - CPU#1 stuck for 26s! [wdh-spin:241] in wdh_spin_fn");
    expect(t.fatal?.signature).toBe("soft-lockup: BUG: soft lockup - CPU#N stuck for Ns! [wdh-spin:N] in wdh_spin_fn | wdh_spin_fn < kthread < ret_from_fork");
  });

  it.each([
    ["panic-no-init.log", "panic-no-init", "Kernel panic - not syncing: No working init found"],
    ["panic-vfs-root.log", "panic-vfs-root", "Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)"],
    ["panic-kill-init.log", "panic-kill-init", "Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100"],
  ])("%s: boot failure panics", (file, id, title) => {
    const t = new ConsoleTriage();
    const lines = fixture(file).split("\n");
    // The panic completes at its end marker, which is the kernel's last word.
    const returned = lines.flatMap((l) => t.feed(l));
    expect(t.finish()).toEqual([]);
    const p = only(t.findings);
    expect(returned).toEqual([p]);
    expect(p).toMatchObject({ id, kind: "panic", severity: "fatal", title });
    expect(t.fatal).toBe(p);
    expect(p.stack).toContain("panic");
    expect(p.lines.at(-1)).toMatch(/---\[ end Kernel panic/);
  });
});

describe("streaming", () => {
  it("strips timestamps, caller ids and carriage returns for matching, keeps the line", () => {
    const t = new ConsoleTriage();
    expect(t.feed("[   12.345678][    T1] kernel BUG at mm/slub.c:545!\r")).toEqual([]);
    const [bug] = t.finish();
    expect(bug).toMatchObject({ id: "bug-at", title: "kernel BUG at mm/slub.c:545!", timestamp: 12.345678, lineIndex: 0 });
    expect(bug!.lines).toEqual(["[   12.345678][    T1] kernel BUG at mm/slub.c:545!"]);
  });

  it("finish() completes a report cut short by the end of the console", () => {
    const lines = fixture("provoked-reports-6.12.log").split("\n");
    const from = lines.findIndex((l) => l.includes("lkdtm: Performing direct entry WARNING"));
    const cut = lines.slice(from, lines.findIndex((l, i) => i > from && l.endsWith("]  direct_entry+0xb8/0x13c")) + 1);
    const t = new ConsoleTriage();
    expect(cut.flatMap((l) => t.feed(l))).toEqual([]);
    const [w] = t.finish();
    expect(w?.stack).toEqual(["lkdtm_WARNING", "direct_entry"]);
  });

  it("caps a report without an end at 60 lines", () => {
    const lines = ["BUG: workqueue lockup - pool cpus=0 node=0 flags=0x0 nice=0 stuck for 31s!"];
    for (let i = 0; i < 100; i++) lines.push(`pending: work_${i}`);
    const [f] = triageLog(lines.join("\n"));
    expect(f?.id).toBe("bug"); // the catch-all: no pattern of its own
    expect(f?.title).toBe("BUG: workqueue lockup - pool cpus=0 node=0 flags=0x0 nice=0 stuck for 31s!");
    expect(f?.lines).toHaveLength(60);
  });
});

describe("pattern table", () => {
  const all = readdirSync(fixtureDir)
    .filter((f) => f.endsWith(".log"))
    .flatMap((f) => triage(f));

  // "bug" is the catch-all for BUG: lines no other pattern names; no run here printed one (the workqueue
  // watchdog stayed quiet through the hard lockup), so only the synthetic line below tests it.
  it.each(PATTERNS.map((p) => p.id).filter((id) => id !== "bug"))("%s has a fixture report", (id) => {
    expect(all.some((f) => f.id === id)).toBe(true);
  });

  it("has unique ids", () => {
    expect(new Set(PATTERNS.map((p) => p.id)).size).toBe(PATTERNS.length);
  });

  it("every report of a real run provoking them, each one finding, in order", () => {
    expect(provoked.map((f) => [f.id, f.title])).toEqual(PROVOKED);
  });
});

describe("decodeStack", () => {
  function fakeTree(): { tree: string; vmlinux: string; cleanup: () => void } {
    const tree = mkdtempSync(join(tmpdir(), "wdh-decode-"));
    mkdirSync(join(tree, "scripts"));
    writeFileSync(join(tree, "scripts/decode_stacktrace.sh"), "#!/bin/bash\n");
    writeFileSync(join(tree, "vmlinux"), "");
    return { tree, vmlinux: join(tree, "vmlinux"), cleanup: () => rmSync(tree, { recursive: true, force: true }) };
  }
  const report = ["[    0.144043] Call trace:", "[    0.144101]  virtcrypto_probe+0x48/0x7dc"];

  it("pipes the report to the tree's script with the arm64 tools", async () => {
    const { tree, vmlinux, cleanup } = fakeTree();
    const calls: { file: string; args: string[]; options?: ExecOptions }[] = [];
    const exec: Exec = async (file, args, options) => {
      calls.push({ file, args, options });
      const stdout = "[    0.144043] Call trace:\n[    0.144101] virtcrypto_probe (drivers/crypto/virtio/virtio_crypto_core.c:366)\n";
      return { argv: [file, ...args], exitCode: 0, stdout, stderr: "", durationMs: 1 };
    };
    try {
      const decoded = await decodeStack(report, vmlinux, tree, exec);
      expect(decoded?.[1]).toContain("virtio_crypto_core.c:366");
      expect(calls[0]).toMatchObject({ file: "bash", args: [join(tree, "scripts/decode_stacktrace.sh"), vmlinux, tree] });
      expect(calls[0]!.options).toMatchObject({ input: report.join("\n") + "\n", allowFailure: true, cwd: tree });
      expect(calls[0]!.options?.env?.CROSS_COMPILE).toBe("aarch64-linux-gnu-");
    } finally {
      cleanup();
    }
  });

  it("returns undefined when nothing was decoded or the script failed", async () => {
    const { tree, vmlinux, cleanup } = fakeTree();
    const echo: Exec = async (file, args, o) => ({ argv: [file, ...args], exitCode: 0, stdout: String(o?.input), stderr: "", durationMs: 1 });
    const fail: Exec = async (file, args) => ({ argv: [file, ...args], exitCode: 1, stdout: "", stderr: "boom", durationMs: 1 });
    try {
      expect(await decodeStack(report, vmlinux, tree, echo)).toBeUndefined();
      expect(await decodeStack(report, vmlinux, tree, fail)).toBeUndefined();
      expect(await decodeStack(report, join(tree, "missing"), tree, echo)).toBeUndefined();
    } finally {
      cleanup();
    }
  });
});
