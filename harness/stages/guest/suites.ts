// Guest test suites: guest-tests/<suite>/suite.yaml and its files. C tests are cross-compiled static
// against the built tree's uapi headers; shell tests are copied as they are. Everything lands in the
// initramfs under /opt/wdh/<suite>/.
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
import type { TestExpectation } from "../../config/schema.ts";
import { ExecError, type Exec } from "../../lib/exec.ts";
import { cacheDir, repoRoot, sha256 } from "../../lib/paths.ts";
import { describeBuildError, firstBuildErrors } from "../build/errors.ts";
import type { Suite } from "../../config/specs.ts";

export interface GuestTest {
  suite: string;
  name: string;
  /** Path of the executable inside the guest. */
  guestPath: string;
  /** How to run it in the guest (argv, run from the suite's directory). */
  command: string[];
  timeoutSeconds: number;
  /** What it provokes on purpose (suite.yaml `expects:`); absent in manifests written before it existed. */
  expects?: TestExpectation[];
}

import { guestTestsRoot } from "../../config/suites.ts";
export { guestTestsRoot, loadSuites } from "../../config/suites.ts";
export type { Suite } from "../../config/specs.ts";
export const guestInstallDir = "/opt/wdh";

export interface CompiledSuites {
  /** Host directory laid out as /opt/wdh: <suite>/<files>. */
  dir: string;
  tests: GuestTest[];
  key: string;
}

export type CompileOutcome = { ok: true; compiled: CompiledSuites } | { ok: false; reason: string; details: string[] };

/** Compile and lay out the suites; cached by the sources, the headers' identity and the compiler. */
export async function compileSuites(
  suites: Suite[],
  opts: { uapiInclude: string; headersId: string; crossCompile: string; exec: Exec; signal?: AbortSignal; logFile?: string },
): Promise<CompileOutcome> {
  const includeDir = join(guestTestsRoot, "include");
  const sources = suites.flatMap((s) => readdirSync(s.dir).map((f) => join(s.dir, f)));
  const headers = existsSync(includeDir) ? readdirSync(includeDir).map((f) => join(includeDir, f)) : [];
  const key = sha256(
    JSON.stringify([opts.headersId, opts.crossCompile, [...sources, ...headers].map((f) => [f.slice(repoRoot.length), sha256(readFileSync(f))])]),
  ).slice(0, 16);
  const dir = join(cacheDir("guest-tests"), key);
  const tests = suites.flatMap((s) =>
    s.def.tests.map((t): GuestTest => {
      const exe = t.run.endsWith(".c") ? basename(t.run, ".c") : t.run;
      const guestPath = `${guestInstallDir}/${s.def.name}/${exe}`;
      const command = t.run.endsWith(".sh") ? ["sh", guestPath] : [guestPath];
      return { suite: s.def.name, name: t.name, guestPath, command, timeoutSeconds: t.timeout, ...(t.expects.length ? { expects: t.expects } : {}) };
    }),
  );
  if (existsSync(dir)) return { ok: true, compiled: { dir, tests, key } };

  const tmp = `${dir}.partial`;
  rmSync(tmp, { recursive: true, force: true });
  for (const s of suites) {
    const out = join(tmp, s.def.name);
    mkdirSync(out, { recursive: true });
    for (const t of s.def.tests) {
      const src = join(s.dir, t.run);
      if (t.run.endsWith(".sh")) {
        copyFileSync(src, join(out, t.run));
        continue;
      }
      const args = ["-static", "-O2", "-Wall", "-Wextra", "-Werror", "-I", includeDir, "-I", opts.uapiInclude, "-o", join(out, basename(t.run, ".c")), src];
      try {
        await opts.exec(`${opts.crossCompile}gcc`, args, { signal: opts.signal, logFile: opts.logFile });
      } catch (e) {
        if (!(e instanceof ExecError)) throw e;
        const errors = firstBuildErrors(e.result.stderr);
        return {
          ok: false,
          reason: `guest test ${s.def.name}/${t.name} does not compile`,
          details: errors.length ? errors.map(describeBuildError) : e.details,
        };
      }
    }
  }
  renameSync(tmp, dir);
  return { ok: true, compiled: { dir, tests, key } };
}
