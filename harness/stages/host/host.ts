// Stage "host": the host tools every later stage needs. Missing ones are installed by
// scripts/install-host-deps.sh when the harness runs as root; otherwise the stage names them and the
// exact command to run, instead of a stage failing later with "command not found".
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { InfraError } from "../../lib/errors.ts";
import { repoRoot } from "../../lib/paths.ts";
import { passed, type Deps, type StageResult } from "../../lib/stage.ts";
import { compilerOf, type Toolchain } from "../build/make.ts";

/**
 * The tools the build stages need (and QEMU's build tools when the harness builds QEMU); the executor
 * that runs the guest adds its own (executors/*: requiredTools), so this list knows nothing of QEMU or SSH.
 */
export function requiredTools(toolchain: Toolchain, buildsQemu: boolean): string[] {
  const kernel = [compilerOf(toolchain).split(/\s+/)[0]!, "make", "bc", "flex", "bison", "ccache", "git", "tar", "xz", "apt-get", "dpkg-deb", "cpio"];
  // meson comes from bookworm-backports (QEMU 10.2 wants >= 1.5); dpkg-source unpacks apt-get source.
  const qemuBuild = ["gcc", "meson", "ninja", "pkg-config", "python3", "dpkg-source"];
  return buildsQemu ? [...kernel, ...qemuBuild] : kernel;
}

/** Tools not found: a name is looked up on PATH, a path (`--qemu ./build/qemu-system-aarch64`) as it is. */
export function missingTools(tools: string[], path = process.env.PATH ?? ""): string[] {
  const dirs = path.split(delimiter).filter(Boolean);
  return tools.filter((t) => (t.includes("/") ? !existsSync(t) : !dirs.some((d) => existsSync(join(d, t)))));
}

/** The guest's packages are arm64 .debs: apt must know the architecture. */
async function arm64Known(deps: Deps): Promise<boolean> {
  if (missingTools(["dpkg"]).length > 0) return false;
  const r = await deps.exec("dpkg", ["--print-foreign-architectures"], { allowFailure: true, signal: deps.signal });
  return r.stdout.split("\n").includes("arm64");
}

export async function checkHost(input: { tools: string[]; isRoot: boolean }, deps: Deps): Promise<StageResult<{ installed: string[] }>> {
  const started = performance.now();
  const missing = missingTools(input.tools);
  if (!(await arm64Known(deps))) missing.push("the arm64 architecture in dpkg");
  if (missing.length === 0) return passed("host", started, { installed: [] }, { reason: `${input.tools.length} tools present` });
  const script = join(repoRoot, "scripts/install-host-deps.sh");
  if (!input.isRoot) {
    throw new InfraError(`missing host tools: ${missing.join(", ")}`, [`install them as root: ${script}`]);
  }
  deps.progress(`installing host packages for ${missing.join(", ")}`);
  await deps.exec("bash", [script], { signal: deps.signal });
  const still = missingTools(input.tools);
  if (!(await arm64Known(deps))) still.push("the arm64 architecture in dpkg");
  if (still.length > 0) throw new InfraError(`still missing after ${script}: ${still.join(", ")}`);
  return passed("host", started, { installed: missing }, { reason: `installed ${missing.join(", ")}` });
}
