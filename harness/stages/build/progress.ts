// How far a kernel build is: make prints one line per object it makes (CC, AS, LD, AR), never a total.
// From an empty build dir the total is what the last such build made with the same config in this build
// dir (kept beside the build, in the cache), or else an estimate from the build's own .config. Into a
// build dir that holds a kernel, make rebuilds what changed: the total is what the last build of the same
// tree state and config made (a bisection's points, a rebuilt series), or unknown (a plain count).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createProgress, type Progress } from "../../lib/progress.ts";

const RECORD = ".wdh-build-objects.json";
/** make's lines that count as one object. */
const OBJECT_LINE = /^\s+(CC|AS|LD|AR)\s+(\S+)/;
/**
 * Objects per built-in option of .config (=y), measured on this harness's configs: 6.12 with 597 options
 * made 1,300 objects, 7.2 with 518 made 1,261 (2.2 and 2.4).
 */
const OBJECTS_PER_OPTION = 2.3;

interface Record {
  /** configKey -> objects a build from an empty build dir made. */
  cold: { [configKey: string]: number };
  /** treeStateId + configKey -> objects the last build of that state made into a build dir that held a kernel. */
  warm: { [stateAndConfig: string]: number };
}

/** Warm counts kept: a bisection's points and a few series, not every state a tree was ever in. */
const WARM_KEPT = 64;

export interface KernelProgress {
  line(line: string): void;
  /** The build succeeded: a build that began from an empty build dir records its count. */
  finished(): void;
}

export function kernelBuildProgress(buildDir: string, configKey: string, report: (m: string) => void, treeStateId?: string): KernelProgress {
  const cold = !existsSync(join(buildDir, "vmlinux"));
  const warmKey = treeStateId && `${treeStateId} ${configKey}`;
  const warmCount = !cold && warmKey ? readRecord(buildDir).warm[warmKey] : undefined;
  const expected = cold ? expectedObjects(buildDir, configKey) : warmCount ? { total: warmCount, from: "last build" as const } : undefined;
  // Only a count from an empty build dir is exact; what make rebuilds depends on what was built before.
  const progress: Progress = createProgress({ report, total: expected?.total, estimated: expected !== undefined && !(cold && expected.from === "last build") });
  let count = 0;
  return {
    line(line) {
      const m = OBJECT_LINE.exec(line);
      if (m) progress.update(++count, `${m[1]} ${m[2]}`);
    },
    finished() {
      if (count === 0) return;
      const record = readRecord(buildDir);
      if (cold) record.cold[configKey] = count;
      else if (warmKey) {
        delete record.warm[warmKey];
        record.warm[warmKey] = count;
        const keys = Object.keys(record.warm);
        for (const k of keys.slice(0, Math.max(0, keys.length - WARM_KEPT))) delete record.warm[k];
      }
      writeFileSync(join(buildDir, RECORD), JSON.stringify(record) + "\n");
    },
  };
}

/** Objects a build from an empty build dir will make: the last such build's count, or an estimate. */
export function expectedObjects(buildDir: string, configKey: string): { total: number; from: "last build" | ".config" } | undefined {
  const last = readRecord(buildDir).cold[configKey];
  if (last) return { total: last, from: "last build" };
  const config = join(buildDir, ".config");
  if (!existsSync(config)) return undefined;
  const builtIn = readFileSync(config, "utf8")
    .split("\n")
    .filter((l) => /^CONFIG_\w+=y$/.test(l)).length;
  return builtIn > 0 ? { total: Math.round(builtIn * OBJECTS_PER_OPTION), from: ".config" } : undefined;
}

function readRecord(buildDir: string): Record {
  try {
    const r = JSON.parse(readFileSync(join(buildDir, RECORD), "utf8")) as Partial<Record>;
    return { cold: r.cold ?? {}, warm: r.warm ?? {} };
  } catch {
    return { cold: {}, warm: {} };
  }
}
