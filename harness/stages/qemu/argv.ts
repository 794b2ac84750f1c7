// The QEMU command line as a pure function of the machine definition and the run's inputs.
import type { MachineDef } from "../../config/schema.ts";

export interface BootInputs {
  kernel: string;
  initrd: string;
  /** Host port on 127.0.0.1 forwarded to the guest's port 22. */
  sshPort: number;
  /** Extra kernel parameters for this run. */
  append?: string[];
}

type Options = Record<string, string | number | boolean>;

/** QEMU's option syntax: key=value pairs joined by commas, with commas in values doubled. */
export function qemuOptions(head: string, options: Options): string {
  const parts = [head, ...Object.entries(options).map(([k, v]) => `${k}=${typeof v === "boolean" ? (v ? "on" : "off") : String(v).replaceAll(",", ",,")}`)];
  return parts.join(",");
}

export function qemuArgv(machine: MachineDef, run: BootInputs): string[] {
  const argv = [
    machine.binary,
    "-machine",
    machine.machine,
    "-accel",
    machine.accel,
    "-cpu",
    machine.cpu,
    "-smp",
    String(machine.smp),
    "-m",
    machine.memory,
    "-display",
    "none",
    "-no-reboot", // with panic=-1 a panicking kernel makes QEMU exit instead of rebooting
    "-nodefaults",
    "-serial",
    "stdio",
    "-monitor",
    "none",
    "-kernel",
    run.kernel,
    "-initrd",
    run.initrd,
    "-append",
    [...machine.append, ...(run.append ?? [])].join(" "),
    // user-mode networking; the only way in is this forward, bound to loopback
    "-netdev",
    `user,id=net0,hostfwd=tcp:127.0.0.1:${run.sshPort}-:22`,
    "-device",
    qemuOptions(machine.network.driver, { netdev: "net0", ...machine.network.options }),
  ];
  for (const [property, value] of Object.entries(machine.globals)) {
    argv.push("-global", `${property}=${typeof value === "boolean" ? (value ? "on" : "off") : String(value)}`);
  }
  for (const device of machine.devices) {
    const props: Options = { id: device.id };
    if (device.backend) {
      const backendId = `${device.id}-backend`;
      argv.push("-object", qemuOptions(device.backend.type, { id: backendId, ...device.backend.options }));
      props[device.backend.property] = backendId;
    }
    argv.push("-device", qemuOptions(device.driver, { ...props, ...device.options }));
  }
  return argv;
}
