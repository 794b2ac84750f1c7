// How far a kernel build is: make prints one line per object it makes (CC, AS, LD, AR), never a total.
// The total is what the last build from an empty build dir made with the same config in this build dir
// (kept beside the build, in the cache); without one, an estimate from the build's own .config.
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
}

export interface KernelProgress {
  line(line: string): void;
  /** The build succeeded: a build that began from an empty build dir records its count. */
  finished(): void;
}

export function kernelBuildProgress(buildDir: string, configKey: string, report: (m: string) => void): KernelProgress {
  const cold = !existsSync(join(buildDir, "vmlinux"));
  const expected = cold ? expectedObjects(buildDir, configKey) : undefined;
  const progress: Progress = createProgress({ report, total: expected?.total, estimated: expected?.from === ".config" });
  let count = 0;
  return {
    line(line) {
      const m = OBJECT_LINE.exec(line);
      if (m) progress.update(++count, `${m[1]} ${m[2]}`);
    },
    finished() {
      if (!cold || count === 0) return;
      const record = readRecord(buildDir);
      record.cold[configKey] = count;
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
  const builtIn = readFileSync(config, "utf8").split("\n").filter((l) => /^CONFIG_\w+=y$/.test(l)).length;
  return builtIn > 0 ? { total: Math.round(builtIn * OBJECTS_PER_OPTION), from: ".config" } : undefined;
}

function readRecord(buildDir: string): Record {
  try {
    const r = JSON.parse(readFileSync(join(buildDir, RECORD), "utf8")) as Partial<Record>;
    return { cold: r.cold ?? {} };
  } catch {
    return { cold: {} };
  }
}
