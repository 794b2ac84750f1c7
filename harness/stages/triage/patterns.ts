// The kernel's own crash and problem report formats, as printed on the console, in one table.
// Every regex is anchored at the start of the message (after the printk timestamp is stripped) on
// the exact kernel format string, so userspace output that merely mentions "WARNING" or "BUG" (TAP
// lines, test names, shell echoes) never matches. Sources: kernel/panic.c, arch/arm64/mm/fault.c,
// arch/arm64/kernel/traps.c, lib/bug.c, kernel/watchdog.c, kernel/hung_task.c,
// kernel/rcu/tree_stall.h, mm/kasan/report.c, mm/kfence/report.c, kernel/kcsan/report.c, lib/ubsan.c,
// drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c, and syzkaller's pkg/report/linux.go for titles.

export type FindingKind =
  | "panic"
  | "oops"
  | "bug"
  | "warning"
  | "lockdep"
  | "kasan"
  | "kfence"
  | "kcsan"
  | "ubsan"
  | "soft-lockup"
  | "hard-lockup"
  | "rcu-stall"
  | "hung-task"
  | "oom"
  | "smmu-event"
  | "smmu-suppressed"
  | "smmu-error";

export type Severity = "fatal" | "error" | "warning" | "info";

export interface Pattern {
  id: string;
  kind: FindingKind;
  severity: Severity;
  /** Matched against the message with timestamp and `\r` stripped. */
  regex: RegExp;
  title: (m: RegExpMatchArray) => string;
  /**
   * The line that closes this report (kept in it). Reports with their own end marker keep
   * collecting past the end of their Call trace (KASAN prints the allocation and free stacks and a
   * shadow dump after it). Without one, the report ends at `---[ end trace` or after its Call trace.
   */
  end?: RegExp;
  /** When set, every report line after the header must match it; the first that does not ends the report. */
  body?: RegExp;
  /** Cap on report lines, header included (default 60); 1 makes a one-line finding. */
  maxLines?: number;
  /** Ids of an open report this header continues instead of starting a new one (arm64 die() after a fault). */
  partOf?: string[];
  /** Append " in <function>" from the `pc :` register line or, failing that, the top useful frame. */
  inFunction?: boolean;
  /** The stack is printed without a "Call trace:" header, right after the header (KFENCE). */
  bareStack?: boolean;
  /**
   * A line after which the stacks printed are other tasks' (RCU's grace-period kthread when it starved):
   * they stay in the report's lines, but neither its stack nor its " in <function>" come from them.
   */
  otherStacks?: RegExp;
}

/** Default end of a report: the oops end marker printed by __warn(), die() and the sanitizers. */
export const END_TRACE = /^---\[ end trace\b/;
/**
 * kernel/rcu/tree_stall.h's rcu_check_gp_kthread_starvation(): the stall report goes on with the
 * grace-period kthread's stack, which says nothing about where the stalled CPU is.
 */
const RCU_KTHREAD_DUMP = /^(?:rcu: )?RCU grace-period kthread stack dump:/;

/**
 * A source path as the kernel tree names it. UBSAN prints the compiler's file name, which is absolute in a
 * build with O= (kbuild maps __FILE__, not the sanitizers' source locations): the tree's own location
 * differs between machines and must not reach titles or signatures.
 */
export function sourcePath(path: string): string {
  const top = /\/((?:arch|block|certs|crypto|drivers|fs|include|init|io_uring|ipc|kernel|lib|mm|net|rust|samples|security|sound|virt)\/.*)$/;
  return path.startsWith("/") ? (top.exec(path)?.[1] ?? path) : path;
}

/** printk's separator around KASAN and KFENCE reports. */
const RULER = /^={40,}$/;
/**
 * What follows an event's header: the four "\t0x%016llx" words and, from Linux 6.15 on (7.2 here),
 * arm_smmu_dump_event()'s decoded lines, "event: F_TRANSLATION client: ..." and "unpriv data read s1 ...".
 */
const SMMU_EVENT_BODY = /^arm-smmu-v3 \S+: (?:\s*0x[0-9a-f]{16}\s*$|event: \S+ client: |(?:un)?priv (?:inst|data) (?:read|write) s[12] ")/;

/** Kernel faults that arm64's die() follows with "Internal error: Oops: ...". */
const FAULT_IDS = ["oops-null-deref", "oops-paging-request", "oops-user-access", "oops-permission", "bug-at"];

// Order matters: the first matching pattern wins, so specific formats come before generic ones.
export const PATTERNS: Pattern[] = [
  // kernel/panic.c: panic(). The boot failures get their own ids so a report can say "no init".
  {
    id: "panic-no-init",
    kind: "panic",
    severity: "fatal",
    regex: /^Kernel panic - not syncing: No working init found\./,
    title: () => "Kernel panic - not syncing: No working init found",
    end: /^---\[ end Kernel panic/,
  },
  {
    id: "panic-vfs-root",
    kind: "panic",
    severity: "fatal",
    regex: /^Kernel panic - not syncing: (VFS: Unable to mount root fs.*?)\s*$/,
    title: (m) => `Kernel panic - not syncing: ${m[1]}`,
    end: /^---\[ end Kernel panic/,
  },
  {
    id: "panic-kill-init",
    kind: "panic",
    severity: "fatal",
    regex: /^Kernel panic - not syncing: (Attempted to kill init!.*?)\s*$/,
    title: (m) => `Kernel panic - not syncing: ${m[1]}`,
    end: /^---\[ end Kernel panic/,
  },
  {
    id: "panic",
    kind: "panic",
    severity: "fatal",
    regex: /^Kernel panic - not syncing: (.*?)\s*$/,
    title: (m) => `Kernel panic - not syncing: ${m[1]}`,
    end: /^---\[ end Kernel panic/,
  },

  // arch/arm64/mm/fault.c: die_kernel_fault(), "Unable to handle kernel %s at virtual address %016lx".
  {
    id: "oops-null-deref",
    kind: "oops",
    severity: "error",
    regex: /^Unable to handle kernel NULL pointer dereference at virtual address [0-9a-f]+/,
    title: () => "Unable to handle kernel NULL pointer dereference",
    inFunction: true,
  },
  {
    id: "oops-paging-request",
    kind: "oops",
    severity: "error",
    regex: /^Unable to handle kernel paging request at virtual address [0-9a-f]+/,
    title: () => "Unable to handle kernel paging request",
    inFunction: true,
  },
  {
    id: "oops-user-access",
    kind: "oops",
    severity: "error",
    regex: /^Unable to handle kernel (access to user memory outside uaccess routines|execution of user memory) at virtual address/,
    title: (m) => `Unable to handle kernel ${m[1]}`,
    inFunction: true,
  },
  {
    id: "oops-permission",
    kind: "oops",
    severity: "error",
    regex: /^Unable to handle kernel (write to read-only memory|execute from non-executable memory|read from unreadable memory) at virtual address/,
    title: (m) => `Unable to handle kernel ${m[1]}`,
    inFunction: true,
  },
  // arch/arm64/kernel/traps.c: __die(), "Internal error: %s: %016lx [#%d] PREEMPT SMP".
  {
    id: "oops-die",
    kind: "oops",
    severity: "error",
    regex: /^Internal error: (.+?): [0-9a-f]{8,16} \[#\d+\]/,
    title: (m) => `Internal error: ${m[1]}`,
    partOf: FAULT_IDS,
    inFunction: true,
  },

  // lib/bug.c: report_bug() for BUG()/BUG_ON(); arm64 then die()s with "Oops - BUG".
  {
    id: "bug-at",
    kind: "bug",
    severity: "error",
    regex: /^kernel BUG at (\S+?:\d+)!/,
    title: (m) => `kernel BUG at ${m[1]}!`,
  },
  // The sanitizers print "BUG: KASAN:"/"BUG: KFENCE:" and must win over the generic BUG below.
  {
    id: "kasan",
    kind: "kasan",
    severity: "error",
    regex: /^BUG: KASAN: (\S+)(?: in ([^\s+]+))?/,
    title: (m) => `KASAN: ${m[1]}${m[2] ? ` in ${m[2]}` : ""}`,
    end: RULER,
    maxLines: 150, // access, allocation and free stacks, then the shadow dump
  },
  {
    id: "kfence",
    kind: "kfence",
    severity: "error",
    regex: /^BUG: KFENCE: (.+?) in ([^\s+]+)/,
    title: (m) => `KFENCE: ${m[1]} in ${m[2]}`,
    end: RULER,
    maxLines: 150, // access, allocation and free stacks
    bareStack: true,
  },
  // kernel/kcsan/report.c: "BUG: KCSAN: data-race in <func> / <func>", both access stacks (bare, each
  // after its "read/write to ... by task" line), closed by the ruler.
  {
    id: "kcsan",
    kind: "kcsan",
    severity: "error",
    regex: /^BUG: KCSAN: (\S+) in (.+?)\s*$/,
    title: (m) => `KCSAN: ${m[1]} in ${m[2]}`,
    end: RULER,
    maxLines: 150,
    bareStack: true,
  },
  // kernel/watchdog.c, pr_fmt "watchdog: ".
  {
    id: "soft-lockup",
    kind: "soft-lockup",
    severity: "error",
    regex: /^(?:watchdog: )?BUG: soft lockup - CPU#(\d+) stuck for (\d+)s! \[(.*)\]/,
    title: (m) => `BUG: soft lockup - CPU#${m[1]} stuck for ${m[2]}s! [${m[3]}]`,
    inFunction: true,
  },
  {
    id: "hard-lockup",
    kind: "hard-lockup",
    severity: "error",
    regex: /^(?:(?:NMI )?watchdog: )?Watchdog detected hard LOCKUP on cpu (\d+)/,
    title: (m) => `Watchdog detected hard LOCKUP on cpu ${m[1]}`,
    inFunction: true,
  },
  // kernel/sched/core.c
  {
    id: "bug-scheduling-while-atomic",
    kind: "bug",
    severity: "error",
    regex: /^BUG: scheduling while atomic: /,
    title: () => "BUG: scheduling while atomic",
  },
  {
    id: "bug-sleeping-in-atomic",
    kind: "bug",
    severity: "error",
    regex: /^BUG: sleeping function called from invalid context at (\S+)/,
    title: (m) => `BUG: sleeping function called from invalid context at ${m[1]}`,
  },
  // kernel/locking/spinlock_debug.c: "BUG: spinlock %s on CPU#%d, %s/%d".
  {
    id: "bug-spinlock",
    kind: "bug",
    severity: "error",
    regex: /^BUG: spinlock (.+?) on CPU#\d+/,
    title: (m) => `BUG: spinlock ${m[1]}`,
  },
  {
    id: "bug",
    kind: "bug",
    severity: "error",
    regex: /^BUG: (.+?)\s*$/,
    title: (m) => `BUG: ${m[1]}`,
  },

  // kernel/panic.c: __warn(), "WARNING: CPU: %d PID: %d at %s:%d %pS".
  {
    id: "warning",
    kind: "warning",
    severity: "warning",
    regex: /^WARNING: CPU: \d+ PID: \d+ at (?:(\S+:\d+) )?([^\s+]+)\+0x/,
    title: (m) => `WARNING in ${m[2]}${m[1] ? ` (${m[1]})` : ""}`,
  },
  // kernel/locking/lockdep.c and RCU lockdep; the report ends with dump_stack's Call trace.
  {
    id: "lockdep",
    kind: "lockdep",
    severity: "warning",
    regex:
      /^WARNING: (possible circular locking dependency detected|possible recursive locking detected|inconsistent lock state|suspicious RCU usage|bad unlock balance detected!|held lock freed!|lock held when returning to user space!|possible irq lock inversion dependency detected)/,
    title: (m) => `WARNING: ${m[1]}`,
  },
  // lib/ubsan.c: ubsan_prologue()/ubsan_epilogue(), "UBSAN: %s in %s:%d:%d" ... "---[ end trace ]---".
  {
    id: "ubsan",
    kind: "ubsan",
    severity: "error",
    regex: /^UBSAN: (\S+) in (\S+?)(?::\d+)?\s*$/,
    title: (m) => `UBSAN: ${m[1]} in ${sourcePath(m[2]!)}`,
  },

  // kernel/rcu/tree_stall.h, pr_fmt "rcu: ".
  {
    id: "rcu-stall",
    kind: "rcu-stall",
    severity: "error",
    regex: /^(?:rcu: )?INFO: (\S+) detected (?:expedited )?stalls on CPUs\/tasks/,
    title: (m) => `rcu: INFO: ${m[1]} detected stalls on CPUs/tasks`,
    inFunction: true,
    otherStacks: RCU_KTHREAD_DUMP,
  },
  {
    id: "rcu-self-stall",
    kind: "rcu-stall",
    severity: "error",
    regex: /^(?:rcu: )?INFO: (\S+) self-detected stall on CPU/,
    title: (m) => `rcu: INFO: ${m[1]} self-detected stall on CPU`,
    inFunction: true,
    otherStacks: RCU_KTHREAD_DUMP,
  },
  // kernel/hung_task.c
  {
    id: "hung-task",
    kind: "hung-task",
    severity: "error",
    regex: /^INFO: task (.+):(\d+) blocked for more than (\d+) seconds\./,
    title: (m) => `INFO: task ${m[1]}:${m[2]} blocked for more than ${m[3]} seconds`,
  },
  // mm/oom_kill.c
  {
    id: "oom-kill",
    kind: "oom",
    severity: "error",
    regex: /^Out of memory(?: \(oom_kill_allocating_task\))?: Killed process \d+ \((.*)\)/,
    title: (m) => `Out of memory: Killed process (${m[1]})`,
    maxLines: 1,
  },

  // drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c. An event is information here: whether it fails the
  // run depends on where it happened (a test that declares it in suite.yaml, or not; see smmu.ts).
  {
    id: "smmu-event",
    kind: "smmu-event",
    severity: "info",
    regex: /^arm-smmu-v3 (\S+): event 0x([0-9a-f]{2}) received:?/,
    title: (m) => `arm-smmu-v3 ${m[1]}: event 0x${m[2]}`,
    body: SMMU_EVENT_BODY,
    maxLines: 7,
  },
  // lib/ratelimit.c, ___ratelimit(): events the driver did not print (10 per 5 s), counted when the next
  // window opens. __func__ of the caller: arm_smmu_evtq_thread (6.12), arm_smmu_dump_event (7.2).
  {
    id: "smmu-suppressed",
    kind: "smmu-suppressed",
    severity: "info",
    regex: /^(arm_smmu_\w+): (\d+) callbacks suppressed/,
    title: (m) => `${m[2]} SMMU events not printed (rate limit, ${m[1]})`,
    maxLines: 1,
  },
  {
    id: "smmu-cmdq-error",
    kind: "smmu-error",
    severity: "error",
    regex: /^arm-smmu-v3 (\S+): CMDQ error \(cons 0x[0-9a-f]+\): (.*?)\s*$/,
    title: (m) => `arm-smmu-v3 ${m[1]}: CMDQ error: ${m[2]}`,
    body: /^arm-smmu-v3 \S+: (?:skipping command in error state:|retrying command fetch|\s*0x[0-9a-f]{16}\s*$)/,
    maxLines: 6,
  },
  {
    id: "smmu-cmdq-timeout",
    kind: "smmu-error",
    severity: "error",
    regex: /^arm-smmu-v3 (\S+): (CMD_SYNC timeout|CMDQ timeout)/,
    title: (m) => `arm-smmu-v3 ${m[1]}: ${m[2]}`,
    maxLines: 1,
  },
  {
    id: "smmu-gerror",
    kind: "smmu-error",
    severity: "error",
    regex: /^arm-smmu-v3 (\S+): (unexpected global error reported|device has entered Service Failure Mode!|(?:EVTQ|PRIQ) write aborted)/,
    title: (m) => `arm-smmu-v3 ${m[1]}: ${m[2]}`,
    maxLines: 1,
  },
  {
    id: "smmu-queue-overflow",
    kind: "smmu-error",
    severity: "warning",
    regex: /^arm-smmu-v3 (\S+): (EVTQ|PRIQ) overflow detected/,
    title: (m) => `arm-smmu-v3 ${m[1]}: ${m[2]} overflow, events lost`,
    maxLines: 1,
  },
];

/**
 * Lines that are never a finding header even if a pattern were to match them: markers that are
 * context of the report around them, echoes of the command line (which may say "oops=panic"),
 * and TAP/KTAP output from tests ("ok 3 - WARNING handling", "# BUG: not really").
 */
export const IGNORED: RegExp[] = [
  /^-+\[ cut here \]-+$/,
  /^---\[ end /,
  /^Kernel command line:/,
  /^Kernel Offset:/,
  /^Run \S+ as init process/,
  /^\s*#/,
  /^\s*(?:not )?ok \d+\b/,
];

/** A frame of an arm64 (or x86) stack dump: " func+0x1c/0x80 [module]", "? func+...", " func+0x1c/0x80 (P)". */
export const FRAME = /^\s*(\?\s+)?([^\s?+][^\s+]*)\+0x[0-9a-f]+\/0x[0-9a-f]+(?:\s+\[[^\]]*\])?(?:\s+\([A-Z]\))?\s*$/;
export const CALL_TRACE = /^Call [Tt]race:\s*$/;
/** Lines inside an x86 trace that are neither frames nor its end. */
export const TRACE_MARKER = /^\s*<\/?(?:TASK|IRQ|NMI|SOFTIRQ)>\s*$/;
/** The arm64 register dump's program counter, "pc : func+0x48/0x2c0 [module]". */
export const PC_LINE = /^pc : ([^\s+]+)\+0x/;
/**
 * Printed after the Call trace, before the end marker: an oops's "Code:" line, and with lockdep the irq
 * state lines of print_irqtrace_events() (__warn() and die() both print them).
 */
export const AFTER_TRACE = /^(?:Code: |irq event stamp: |(?:hard|soft)irqs last +(?:en|dis)abled at )/;

/**
 * Panic messages that are the consequence of an earlier report (oops=panic, panic_on_warn,
 * softlockup_panic, hung_task_panic, panic_on_rcu_stall, hardlockup_panic, kasan.fault=panic),
 * with the kinds of report that cause them: the latest such report is the real cause and is
 * promoted to fatal.
 */
export const PANIC_CAUSES: { panic: RegExp; causes: FindingKind[] }[] = [
  { panic: /Fatal exception/, causes: ["oops", "bug"] },
  { panic: /panic_on_warn set|system warned too often/, causes: ["warning", "lockdep", "ubsan", "kasan", "kfence", "kcsan"] },
  { panic: /softlockup: hung tasks/, causes: ["soft-lockup"] },
  { panic: /hung_task: blocked tasks/, causes: ["hung-task"] },
  { panic: /RCU Stall/, causes: ["rcu-stall"] },
  { panic: /Hard LOCKUP/, causes: ["hard-lockup"] },
  { panic: /kasan\.fault=panic/, causes: ["kasan"] },
];

/**
 * Frames that say how a report was printed rather than where the problem is; skipped when
 * fingerprinting a stack and when naming the function a report happened in.
 */
export const GENERIC_FRAME = new RegExp(
  `^(?:${[
    // printing the report
    "dump_backtrace",
    "show_stack",
    "dump_stack(?:_lvl)?",
    "show_regs",
    "panic",
    "nmi_panic",
    "check_panic_on_warn",
    // WARN/BUG traps and arm64 exception entry
    "__warn",
    "warn_slowpath\\w*",
    "report_bug",
    "bug_(?:brk_)?handler",
    "call_break_hook",
    "brk_handler",
    "do_debug_exception",
    "el1_dbg",
    "el1h_64_(?:sync|irq)(?:_handler)?",
    "el1_(?:abort|da|interrupt|undef)",
    // arm64 fault handling
    "die",
    "die_kernel_fault",
    "__do_kernel_fault",
    "do_page_fault",
    "do_translation_fault",
    "do_mem_abort",
    "do_bad_area",
    // sanitizer and might_sleep reporting
    "ubsan_epilogue",
    "__ubsan_handle_\\w+",
    "kasan_report",
    "print_report",
    "__asan_\\w+",
    "__hwasan_\\w+",
    "kasan_check_range",
    "__might_resched",
    "__might_sleep",
    "__schedule_bug",
    // where a blocked task sleeps (hung task reports)
    "__switch_to",
    "__schedule",
    "schedule",
    "schedule_timeout",
    "schedule_preempt_disabled",
    "io_schedule",
    "__mutex_lock(?:_slowpath)?",
    "mutex_lock(?:_interruptible|_killable|_nested)?",
    "__down\\w*",
    "down(?:_read|_write)?(?:_killable)?",
    "rwsem_down_\\w+",
    "wait_for_completion\\w*",
    "__wait_for_common",
    // lockdep and spinlock debugging
    "lock_acquire",
    "__lock_acquire",
    "validate_chain",
    "check_prev_add",
    "check_noncircular",
    "print_circular_bug",
    "spin_bug",
    "do_raw_spin_(?:un)?lock",
    "_raw_spin_(?:un)?lock(?:_irq|_irqsave|_bh)?",
  ].join("|")})$`,
);
