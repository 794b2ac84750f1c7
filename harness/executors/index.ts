// The executors, by the name a machine file gives in `executor:` (default local-qemu). Adding one is
// adding its folder and its line here.
import { UsageError } from "../lib/errors.ts";
import { lava } from "./lava/index.ts";
import { localQemu } from "./local-qemu/index.ts";
import type { Executor } from "./types.ts";

export type { Executor, GuestJob, GuestRun } from "./types.ts";

export const EXECUTORS: Readonly<Record<string, Executor>> = {
  "local-qemu": localQemu,
  lava,
};

export function executorFor(name: string, registry: Readonly<Record<string, Executor>> = EXECUTORS): Executor {
  const executor = registry[name];
  if (!executor) throw new UsageError(`executor "${name}" is not known (known: ${Object.keys(registry).join(", ")})`);
  return executor;
}
