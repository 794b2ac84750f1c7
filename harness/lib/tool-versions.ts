// Versions of the host tools a run used, for manifest.json.
import type { Exec } from "./exec.ts";

export async function toolVersions(exec: Exec, tools: string[][]): Promise<Record<string, string>> {
  const entries = await Promise.all(
    tools.map(async ([file, ...args]) => {
      try {
        const r = await exec(file!, args, { allowFailure: true });
        return [file!, (r.stdout || r.stderr).split("\n")[0]!.trim()] as const;
      } catch {
        return [file!, "not found"] as const;
      }
    }),
  );
  return { node: process.version, ...Object.fromEntries(entries) };
}
