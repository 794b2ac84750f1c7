// The devices a QEMU build compiles in. QEMU's configure builds every board and device of the target by
// default (for aarch64-softmmu: all 32- and 64-bit Arm boards and their SoCs); a harness machine uses one
// board and a handful of PCI devices. With --without-default-devices QEMU's minikconf starts from nothing
// and takes only the symbols a devices file sets plus what they `select`, which cuts the build to what the
// machine can boot. The table below names, for each -machine and -device the machine files use, the
// Kconfig symbol that compiles it in (from QEMU's hw/*/meson.build `when: 'CONFIG_...'` lines).
import type { MachineDef, QemuBuildDef } from "../../config/schema.ts";
import { UsageError } from "../../lib/errors.ts";
import { sha256 } from "../../lib/paths.ts";

const MACHINE_SYMBOLS: Record<string, string[]> = {
  // hw/arm/meson.build; ARM_VIRT selects ARM_SMMUV3, the GIC, PL011, the PCIe host bridge, fw_cfg. CXL too:
  // ARM_VIRT selects ACPI_CXL, whose hw/acpi/cxl.c calls cxl_fmws_get_all_sorted() in hw/cxl, which only
  // CXL compiles (on QEMU 10.2.2 without it the link fails); CXL depends on PXB (the PCIe expander
  // bridge), and hw/cxl calls into the type 3 memory device (cxl_type3_read/write), which only
  // CXL_MEM_DEVICE compiles. A default build has all three ("default y"), so it never sees this.
  virt: ["ARM_VIRT", "CXL", "CXL_MEM_DEVICE", "PXB"],
};

const DEVICE_SYMBOLS: Record<string, string[]> = {
  "virtio-net-pci": ["VIRTIO_PCI", "VIRTIO_NET"], // hw/virtio/meson.build
  "virtio-crypto-pci": ["VIRTIO_PCI", "VIRTIO_CRYPTO"],
  "virtio-rng-pci": ["VIRTIO_PCI", "VIRTIO_RNG"],
  "virtio-blk-pci": ["VIRTIO_PCI", "VIRTIO_BLK"],
  "pcie-root-port": ["PCIE_PORT"], // hw/pci-bridge/meson.build
};

export interface DevicesFile {
  /** Named by its content, so the configure line (and with it the build's key) changes when it does. */
  name: string;
  text: string;
  symbols: string[];
}

/**
 * The devices file for a machine: its board's and devices' symbols, plus `extra` (a machine file's
 * qemu.kconfig, for what the table does not know or a qtest needs). A board or device the table does not
 * know is a usage error that says both ways out, rather than a QEMU that fails at its first -device.
 */
export function machineDevices(machine: string, drivers: string[], extra: string[]): DevicesFile {
  const board = machine.split(",")[0]!;
  const symbols = new Set<string>();
  const unknown: string[] = [];
  for (const [name, table] of [[board, MACHINE_SYMBOLS] as const, ...drivers.map((d) => [d, DEVICE_SYMBOLS] as const)]) {
    const s = table[name];
    if (s) for (const x of s) symbols.add(x);
    else unknown.push(name);
  }
  for (const x of extra) symbols.add(x.replace(/^CONFIG_/, ""));
  // A machine file that names its own symbols answers for the boards and devices the table does not know.
  if (unknown.length > 0 && extra.length === 0) {
    throw new UsageError(`QEMU build: no Kconfig symbol known for ${unknown.join(", ")}`, [
      `the harness builds QEMU with only the devices its machine names (--without-default-devices)`,
      `name the symbols that compile them in under qemu.kconfig in the machine file (see QEMU's hw/*/meson.build),`,
      `or build every device of the target: qemu.devices: all`,
    ]);
  }
  const sorted = [...symbols].sort();
  const text = `# Written by warpdrive-harness: the devices its machine names (--without-default-devices)\n${sorted.map((s) => `CONFIG_${s}=y`).join("\n")}\n`;
  return { name: `wdh-devices-${sha256(text).slice(0, 12)}`, text, symbols: sorted };
}

/** The devices file a machine's QEMU build takes, or none when its build asks for QEMU's defaults (devices: all). */
export function devicesFor(machine: MachineDef, def: Pick<QemuBuildDef, "devices" | "kconfig">): DevicesFile | undefined {
  if (def.devices === "all") return undefined;
  const drivers = [...(machine.network.driver === "none" ? [] : [machine.network.driver]), ...machine.devices.map((d) => d.driver)];
  return machineDevices(machine.machine, drivers, def.kconfig);
}
