// A LAVA job definition for one run: deploy the kernel and the merged ramdisk to tmpfs, boot them with the
// qemu device type (the machine file's machine, cpu, memory and devices as job context), and run the guest
// suites as inline Lava Test Shell definitions. Each guest test becomes one lava-test-case (pass/fail by
// its exit code), each TAP point and each `# metric:` line one more (metrics with their measurement).
// The shape that runs tests without libguestfs (FACTS.md "LAVA"): ramdisk `format: cpio.newc` with
// `overlays: {lava: true}`, `deploy: {to: tmpfs, os: oe}`, `boot: {method: qemu, media: tmpfs}`.
import { stringify } from "yaml";

/** What the job needs of the machine file (qemu/*.yaml), already resolved. */
export interface LavaMachine {
  name: string;
  machine: string;
  cpu: string;
  /** MiB */
  memory: number;
  smp: number;
  /** Kernel command line (console=ttyAMA0 ... plus the series' parameters). */
  append: string[];
  /** Device options as QEMU arguments, one option with its value per entry ("-device virtio-crypto-pci,..."). */
  extraOptions: string[];
  /** The template's `model` for its NIC ("model=virtio-net-pci,addr=0x1"). */
  nicModel?: string;
}

export interface LavaGuestTest {
  suite: string;
  name: string;
  /** argv in the guest, run from the suite's folder. */
  command: string[];
  timeoutSeconds: number;
}

export interface LavaJobInput {
  jobName: string;
  machine: LavaMachine;
  /** URLs (http(s):// or file://) the dispatcher fetches. */
  kernelUrl: string;
  ramdiskUrl: string;
  tests: LavaGuestTest[];
  /** Minutes; defaults cover a TCG boot and the suites' own timeouts. */
  timeouts?: { jobMinutes?: number; bootMinutes?: number };
  /** The device type on a lab (`qemu` for the emulated machines, or a board's). */
  deviceType?: string;
  /** LAVA's priority / visibility / tags, for a remote lab. */
  tags?: string[];
  /** A board's boot method (its device type's: grub, u-boot, uefi...); qemu for the qemu device type. */
  bootMethod?: string;
}

/** The console prompt of the guest's shell (busybox ash, root, in /). */
export const GUEST_PROMPT = "/ # ";

/** LAVA test case ids: letters, digits, `_ - .`; anything else becomes `_`. */
export const caseId = (s: string) => s.replace(/[^A-Za-z0-9_.-]+/g, "_").replace(/^[._]+|_+$/g, "") || "_";

/**
 * The shell function each test definition starts with: the same kmsg markers as the SSH runner (so the
 * console triage attributes findings to tests the same way), the test under busybox timeout, its TAP points
 * and metrics as lava-test-case calls, and one case for the test itself.
 */
export const RUNNER = String.raw`set +x
wdh_run() {
  suite="$1"; name="$2"; secs="$3"; shift 3
  id="$suite/$name#$$"
  out=/tmp/wdh-$suite-$name.out
  echo "wdh: test-begin $id" > /dev/kmsg
  # LAVA runs the steps under set -e: a failing test must not end the definition.
  rc=0
  (cd /opt/wdh/$suite && timeout -s KILL "$secs" "$@") > "$out" 2>&1 || rc=$?
  echo "wdh: test-end $id rc=$rc" > /dev/kmsg
  sed 's/^/    /' "$out"
  awk -v t="$name" '
    function clean(s) { gsub(/[^A-Za-z0-9_.-]+/, "_", s); sub(/^[._]+/, "", s); sub(/_+$/, "", s); return s }
    /^(not )?ok [0-9]+/ {
      res = ($1 == "ok") ? "pass" : "fail"; n = ($1 == "ok") ? $2 : $3
      if ($0 ~ /# *[Ss][Kk][Ii][Pp]/) res = "skip"
      printf "lava-test-case %s.%s --result %s\n", t, n, res
    }
    /^[ \t]*# *metric: / {
      sub(/^[ \t]*# *metric: */, ""); m = clean($1); v = $2; u = ($3 == "") ? "none" : $3
      printf "lava-test-case %s.%s --result pass --measurement %s --units %s\n", t, m, v, u
    }' "$out" > /tmp/wdh-cases.sh
  sh /tmp/wdh-cases.sh || true
  if [ "$rc" = 0 ]; then lava-test-case "$name" --result pass; else lava-test-case "$name" --result fail; fi
}`;

function testDefinition(suite: string, tests: LavaGuestTest[]): Record<string, unknown> {
  return {
    metadata: { format: "Lava-Test Test Definition 1.0", name: suite, description: `warpdrive-harness guest suite ${suite}` },
    run: {
      steps: [RUNNER, ...tests.map((t) => `wdh_run ${caseId(t.suite)} ${caseId(t.name)} ${Math.ceil(t.timeoutSeconds)} ${t.command.map(shq).join(" ")}`)],
    },
  };
}

const shq = (s: string) => (/^[A-Za-z0-9_./=:,+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** The job as an object (stringify with `jobYaml`). */
export function lavaJob(input: LavaJobInput): Record<string, unknown> {
  const { machine } = input;
  const suites = [...new Set(input.tests.map((t) => t.suite))];
  const testSeconds = input.tests.reduce((s, t) => s + t.timeoutSeconds + 5, 0);
  const bootMinutes = input.timeouts?.bootMinutes ?? 5;
  const testMinutes = Math.max(1, Math.ceil(testSeconds / 60));
  const jobMinutes = input.timeouts?.jobMinutes ?? bootMinutes + testMinutes + 5;
  const board = input.deviceType !== undefined && input.deviceType !== "qemu";
  const actions: Record<string, unknown>[] = board ? boardActions(input, bootMinutes) : qemuActions(input, bootMinutes);
  if (suites.length > 0) {
    actions.push({
      test: {
        timeout: { minutes: testMinutes },
        definitions: suites.map((suite) => ({
          from: "inline",
          name: caseId(suite),
          path: `inline/${caseId(suite)}.yaml`,
          repository: testDefinition(
            suite,
            input.tests.filter((t) => t.suite === suite),
          ),
        })),
      },
    });
  }
  return {
    device_type: input.deviceType ?? "qemu",
    job_name: input.jobName,
    timeouts: { job: { minutes: jobMinutes }, action: { minutes: Math.max(bootMinutes, testMinutes) + 2 }, connection: { minutes: 2 } },
    priority: "medium",
    visibility: "public",
    ...(input.tags?.length ? { tags: input.tags } : {}),
    // A board's device dictionary gives its own command line; the machine's parameters go after it.
    context: board ? { extra_kernel_args: machine.append.join(" ") } : qemuContext(machine),
    actions,
  };
}

function qemuContext(machine: LavaMachine): Record<string, unknown> {
  return {
    arch: "arm64",
    no_kvm: true,
    machine: machine.machine,
    cpu: machine.cpu,
    memory: machine.memory,
    ...(machine.nicModel ? { model: machine.nicModel } : {}),
    extra_options: machine.extraOptions,
  };
}

/** The qemu device type: kernel and ramdisk to tmpfs, the machine's command line on -append. */
function qemuActions(input: LavaJobInput, bootMinutes: number): Record<string, unknown>[] {
  const { machine } = input;
  return [
    {
      deploy: {
        timeout: { minutes: 3 },
        to: "tmpfs",
        os: "oe",
        images: {
          kernel: { image_arg: `-kernel {kernel} -append "${machine.append.join(" ")}"`, url: input.kernelUrl },
          ramdisk: { image_arg: "-initrd {ramdisk}", url: input.ramdiskUrl, format: "cpio.newc", compression: "gz", overlays: { lava: true } },
        },
      },
    },
    { boot: { timeout: { minutes: bootMinutes }, method: "qemu", media: "tmpfs", prompts: [GUEST_PROMPT] } },
  ];
}

/**
 * A board (device types like d05, d06, n1sdp): kernel and ramdisk over TFTP, booted by the board's
 * GRUB with the `ramdisk` commands of its device type, which give the kernel command line of the lab's
 * device dictionary (the machine file's `append` goes in as the context's extra_kernel_args). Not run
 * here: there is no board.
 */
function boardActions(input: LavaJobInput, bootMinutes: number): Record<string, unknown>[] {
  return [
    {
      deploy: {
        timeout: { minutes: 5 },
        to: "tftp",
        os: "oe",
        kernel: { url: input.kernelUrl, type: "image" },
        ramdisk: { url: input.ramdiskUrl, compression: "gz" },
      },
    },
    {
      boot: {
        timeout: { minutes: bootMinutes },
        method: input.bootMethod ?? "grub",
        commands: "ramdisk",
        prompts: [GUEST_PROMPT],
      },
    },
  ];
}

export function jobYaml(input: LavaJobInput): string {
  return stringify(lavaJob(input), { lineWidth: 0 });
}
