import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { loadYaml } from "../../config/load.ts";
import { MachineSchema } from "../../config/schema.ts";
import { repoRoot } from "../../lib/paths.ts";
import { qemuArgv, qemuOptions } from "./argv.ts";

const machine = loadYaml(MachineSchema, join(repoRoot, "qemu/virt-smmuv3.yaml"));
const run = { kernel: "/b/Image", initrd: "/r/initramfs.cpio", sshPort: 40022 };

describe("qemuArgv", () => {
  it("builds the default machine's command line", () => {
    expect(qemuArgv(machine, run)).toMatchSnapshot();
  });

  it("puts an SMMUv3 in front of the PCIe root complex and every virtio device behind it", () => {
    const argv = qemuArgv(machine, run);
    expect(argv[argv.indexOf("-machine") + 1]).toBe("virt,iommu=smmuv3,gic-version=3");
    const devices = argv.filter((_, i) => argv[i - 1] === "-device");
    expect(devices).toHaveLength(3);
    for (const d of devices) expect(d).toMatch(/iommu_platform=on.*disable-legacy=on/);
    expect(devices.filter((d) => d.startsWith("virtio-crypto-pci") && d.includes("page-per-vq=on"))).toHaveLength(2);
  });

  it("gives each crypto device its own builtin backend", () => {
    const argv = qemuArgv(machine, run);
    const objects = argv.filter((_, i) => argv[i - 1] === "-object");
    expect(objects).toEqual(["cryptodev-backend-builtin,id=crypto0-backend", "cryptodev-backend-builtin,id=crypto1-backend"]);
    expect(argv).toContain("virtio-crypto-pci,id=crypto1,cryptodev=crypto1-backend,addr=0x3,iommu_platform=on,disable-legacy=on,page-per-vq=on");
  });

  it("forwards SSH on loopback only and appends run parameters", () => {
    const argv = qemuArgv(machine, { ...run, append: ["wdh.run=abc"] });
    expect(argv).toContain("user,id=net0,hostfwd=tcp:127.0.0.1:40022-:22");
    expect(argv[argv.indexOf("-append") + 1]).toMatch(/^console=ttyAMA0 .* wdh\.run=abc$/);
  });

  it("escapes commas in option values", () => {
    expect(qemuOptions("x", { a: "1,2", b: true })).toBe("x,a=1,,2,b=on");
  });

  it("the SVA machine: SMMUv3 substreams through -global, the user-queue device behind a PCIe root port with PASID", () => {
    const sva = loadYaml(MachineSchema, join(repoRoot, "qemu/virt-smmuv3-sva.yaml"));
    const argv = qemuArgv({ ...sva, binary: "/cache/qemu-trees/q/build/qemu-system-aarch64" }, run);
    expect(argv[0]).toBe("/cache/qemu-trees/q/build/qemu-system-aarch64");
    expect(argv[argv.indexOf("-global") + 1]).toBe("arm-smmuv3.ssidsize=20");
    expect(argv[argv.indexOf("-cpu") + 1]).toBe("cortex-a57");
    const devices = argv.filter((_, i) => argv[i - 1] === "-device");
    const port = devices.findIndex((d) => d.startsWith("pcie-root-port,id=rp0"));
    const user = devices.findIndex((d) => d.includes("id=crypto2"));
    expect(port).toBeGreaterThan(-1);
    expect(user).toBeGreaterThan(port); // the port must exist before a device names it as its bus
    expect(devices[user]).toContain("bus=rp0,addr=0x0");
    expect(devices[user]).toContain("pasid-width=20");
    expect(argv).toContain("cryptodev-backend-builtin,id=crypto2-backend,queues=4");
    // the one-process device stays where the default machine has it
    expect(devices).toContain("virtio-crypto-pci,id=crypto1,cryptodev=crypto1-backend,addr=0x3,iommu_platform=on,disable-legacy=on,page-per-vq=on");
    // the one-process series' parameter comes with the series (patches/warpdrive-virtio/series.yaml), not the machine
    expect(argv[argv.indexOf("-append") + 1]).not.toContain("virtio_crypto.uacce_devices");
    expect(argv[argv.indexOf("-append") + 1]).toContain("pci=config_acs=1x1xx@0000:00:04.0");
    expect(sva.qemu?.source).toMatchObject({ debian: "qemu", version: "1:10.2.2+ds-1", suite: "sid" });
  });
});
