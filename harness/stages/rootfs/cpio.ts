// newc archives through the kernel's own usr/gen_init_cpio: it takes a list of entries, so device
// nodes and root ownership need no root on the host.
import { rmSync, lstatSync, readdirSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Exec } from "../../lib/exec.ts";

export type CpioEntry =
  | { type: "dir"; name: string; mode: number }
  | { type: "file"; name: string; source: string; mode: number }
  | { type: "slink"; name: string; target: string; mode: number }
  | { type: "nod"; name: string; mode: number; dev: "c" | "b"; major: number; minor: number };

export function cpioListLine(e: CpioEntry): string {
  const mode = (e.mode & 0o7777).toString(8).padStart(4, "0");
  switch (e.type) {
    case "dir":
      return `dir ${e.name} ${mode} 0 0`;
    case "file":
      return `file ${e.name} ${e.source} ${mode} 0 0`;
    case "slink":
      return `slink ${e.name} ${e.target} ${mode} 0 0`;
    case "nod":
      return `nod ${e.name} ${mode} 0 0 ${e.dev} ${e.major} ${e.minor}`;
  }
}

/** Every entry under a host directory, placed under `prefix` in the archive; `keep` filters by archive path. */
export function entriesFromDir(root: string, prefix = "", keep: (name: string) => boolean = () => true): CpioEntry[] {
  const entries: CpioEntry[] = [];
  const walk = (dir: string, name: string) => {
    for (const child of readdirSync(dir).sort()) {
      const source = join(dir, child);
      const path = `${name}/${child}`;
      if (!keep(path)) continue;
      const st = lstatSync(source);
      if (st.isSymbolicLink()) entries.push({ type: "slink", name: path, target: readlinkSync(source), mode: 0o777 });
      else if (st.isDirectory()) {
        entries.push({ type: "dir", name: path, mode: st.mode });
        walk(source, path);
      } else if (st.isFile()) entries.push({ type: "file", name: path, source, mode: st.mode });
    }
  };
  walk(root, prefix);
  return entries;
}

/** Parent directories must come before what they hold: add any that are missing, drop repeated ones. */
export function withParents(entries: CpioEntry[]): CpioEntry[] {
  const seen = new Set<string>();
  const out: CpioEntry[] = [];
  const addDir = (e: CpioEntry) => {
    if (seen.has(e.name)) return;
    seen.add(e.name);
    out.push(e);
  };
  for (const e of entries) {
    const parts = e.name.split("/").filter(Boolean);
    for (let i = 1; i < parts.length; i++) addDir({ type: "dir", name: `/${parts.slice(0, i).join("/")}`, mode: 0o755 });
    if (e.type === "dir") addDir(e);
    else out.push(e);
  }
  return out;
}

export async function writeCpio(genInitCpio: string, entries: CpioEntry[], output: string, exec: Exec, signal?: AbortSignal): Promise<void> {
  const list = `${output}.list`;
  writeFileSync(list, withParents(entries).map(cpioListLine).join("\n") + "\n");
  // -t 0: fixed mtimes, so the same inputs give the same archive
  try {
    await exec(genInitCpio, ["-t", "0", list], { stdoutFile: output, signal });
  } finally {
    rmSync(list, { force: true });
  }
}
