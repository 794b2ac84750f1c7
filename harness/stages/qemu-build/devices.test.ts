import { describe, expect, it } from "vitest";
import { UsageError } from "../../lib/errors.ts";
import { machineDevices } from "./devices.ts";

describe("machineDevices: a QEMU with only what the machine names", () => {
  it("the board and each device's symbol, once each, in a file named by its content", () => {
    const d = machineDevices("virt,iommu=smmuv3,gic-version=3", ["virtio-net-pci", "virtio-crypto-pci", "virtio-crypto-pci", "pcie-root-port"], []);
    expect(d.symbols).toEqual(["ARM_VIRT", "CXL", "CXL_MEM_DEVICE", "PCIE_PORT", "PXB", "VIRTIO_CRYPTO", "VIRTIO_NET", "VIRTIO_PCI"]);
    expect(d.text.split("\n").filter((l) => l.startsWith("CONFIG_"))).toEqual(d.symbols.map((s) => `CONFIG_${s}=y`));
    expect(d.name).toMatch(/^wdh-devices-[0-9a-f]{12}$/);
    // another device set, another name: the configure line, and so the build's key, follows the content
    expect(machineDevices("virt", ["virtio-net-pci"], []).name).not.toBe(d.name);
  });

  it("a device the table does not know is a usage error naming it and both ways out", () => {
    const call = () => machineDevices("virt", ["virtio-net-pci", "e1000e"], []);
    expect(call).toThrow(UsageError);
    expect(call).toThrow(/no Kconfig symbol known for e1000e/);
  });

  it("the machine file's own symbols answer for what the table does not know", () => {
    const d = machineDevices("virt", ["e1000e"], ["CONFIG_E1000E_PCI_EXPRESS"]);
    expect(d.symbols).toEqual(["ARM_VIRT", "CXL", "CXL_MEM_DEVICE", "E1000E_PCI_EXPRESS", "PXB"]);
  });
});
