// Where the guest runs. One interface, one folder per implementation (local-qemu/, lava/ next), one entry
// in executors/index.ts. Modelled on syzkaller's vm/vmimpl: the manager never knows which backend booted
// the kernel; every backend hands back the console, and triage, TAP parsing and reports read it the same
// way. (Not kunit's LinuxSourceTreeOperations: ours does not build, the kernel is built before.)
import type { MachineDef } from "../config/schema.ts";
import type { Deps, StageResult } from "../lib/stage.ts";
import type { TestResult } from "../stages/guest/judge.ts";
import type { GuestTest } from "../stages/guest/suites.ts";
import type { Finding } from "../stages/triage/triage.ts";

/** What to run: the built artifacts, the machine, the tests, and where the evidence goes. */
export interface GuestJob {
  kernel: {
    /** The Image to boot (from the artifact store). */
    image: string;
    /** For decoding stacks to file:line (optional: a lab may only have the Image). */
    vmlinux?: string;
    treeDir?: string;
  };
  /** The initramfs with the guest tests in it (same file for every run with the same packages and tests). */
  initramfs: string;
  machine: MachineDef;
  /** Kernel parameters after the machine's: the series' and the profile's. */
  append: string[];
  tests: GuestTest[];
  timeouts: { bootMs: number; connectMs: number; testScale: number };
  /** The run folder: console.log, the executor's own files (keys, job definitions) go here. */
  runDir: { id: string; file: (name: string) => string };
  /** Called once the executor no longer reads the kernel files at their paths (QEMU loaded them, a lab fetched them). */
  artifactsLoaded?: () => void;
}

/** What happened: returned on success and on every failure, never thrown for a kernel's or a lab's fault. */
export interface GuestRun {
  executor: string;
  /** The command that booted the kernel (the QEMU line; for a lab, the submit), as run. */
  argv: string[];
  consoleLog: string;
  /** The console's lines as read, and every finding triage made in them. */
  lines: string[];
  findings: Finding[];
  /** Every test asked for: run, failed, or not run with the reason. */
  tests: TestResult[];
  timings: { bootToReadyMs?: number; bootToSshMs?: number };
  /** Each phase as a stage: boot, ssh (or the executor's connect), guest, shutdown; the failing one first to fail. */
  stages: StageResult<unknown>[];
  /** Shell lines for reproduce.sh, after the boot line: how to reach the guest by hand. */
  reproduce: string[];
}

export interface Executor {
  readonly name: string;
  /**
   * Guests of this executor run on machines of their own (a lab's boards or dispatchers), so repeats of one
   * point can run at once; the local QEMU shares the build host's cores and runs one guest at a time.
   */
  readonly concurrent: boolean;
  /** Host tools this executor needs for this machine (the host stage checks them with the build's). */
  requiredTools(machine: MachineDef): string[];
  /**
   * Boot the artifacts on the machine and run the tests. The result's status, kind and signature are the
   * first failing phase's (its `stage` is that phase); its output is always present.
   */
  run(job: GuestJob, deps: Deps): Promise<StageResult<GuestRun> & { output: GuestRun }>;
}
