// A machine file (qemu/*.yaml) as the qemu device type's job context. The QEMU argv stays one pure
// function (stages/qemu/argv.ts): the devices are taken from it, minus what LAVA's template provides
// itself (binary, -machine, -cpu, -m, console, monitor, kernel, initrd, -append, the NIC).
import type { MachineDef } from "../../config/schema.ts";
import { qemuArgv } from "../../stages/qemu/argv.ts";
import type { LavaMachine } from "./job.ts";

/** Options the qemu device-type template writes itself, with the number of values each takes. */
const PROVIDED: Record<string, number> = {
  "-machine": 1,
  "-accel": 1,
  "-cpu": 1,
  "-m": 1,
  "-display": 1,
  "-nodefaults": 0,
  "-serial": 1,
  "-monitor": 1,
  "-kernel": 1,
  "-initrd": 1,
  "-append": 1,
  "-netdev": 1,
};

export function lavaMachineOf(def: MachineDef, extraAppend: string[] = []): LavaMachine & { nicModel: string } {
  const argv = qemuArgv(def, { kernel: "K", initrd: "I", sshPort: 1 }).slice(1);
  const extra: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const opt = argv[i]!;
    if (opt in PROVIDED) {
      i += PROVIDED[opt]!;
      continue;
    }
    const value = argv[i + 1];
    if (opt === "-device" && value?.startsWith(`${def.network.driver},netdev=`)) {
      i++;
      continue;
    }
    if (value !== undefined && !value.startsWith("-")) {
      extra.push(`${opt} ${value}`);
      i++;
    } else extra.push(opt);
  }
  // LAVA's template adds its own NIC (`-net nic,model=...`); it gets the machine's address and, through
  // -global, the machine's properties (iommu_platform=on: its DMA goes through the SMMU like the harness's).
  const { addr, ...nicProps } = def.network.options as Record<string, string | number | boolean>;
  const globals = Object.entries(nicProps).map(([k, v]) => `-global ${def.network.driver}.${k}=${typeof v === "boolean" ? (v ? "on" : "off") : String(v)}`);
  return {
    name: def.name,
    machine: def.machine,
    cpu: def.cpu,
    memory: parseMemoryMiB(def.memory),
    smp: def.smp,
    append: [...def.append, ...extraAppend],
    extraOptions: [...globals, ...extra],
    nicModel: `model=${def.network.driver}${addr !== undefined ? `,addr=${String(addr)}` : ""}`,
  };
}

export function parseMemoryMiB(memory: string): number {
  const m = /^(\d+)\s*([MG]?)i?B?$/i.exec(memory.trim());
  if (!m) throw new Error(`memory ${memory}: expected e.g. 1024M or 2G`);
  return Number(m[1]) * (m[2]?.toUpperCase() === "G" ? 1024 : 1);
}
