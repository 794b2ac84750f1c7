// Guest test suites as the config names them: guest-tests/<suite>/suite.yaml (or a suite folder
// elsewhere), checked at the edge: every test's file exists, every expectation names a real SMMU event.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { UsageError } from "../lib/errors.ts";
import { repoRoot } from "../lib/paths.ts";
import { SMMU_EVENT_NAMES } from "../lib/smmu-events.ts";
import { loadYaml } from "./load.ts";
import { SuiteSchema, type TestExpectation } from "./schema.ts";
import type { Suite } from "./specs.ts";

export const guestTestsRoot = join(repoRoot, "guest-tests");

export function loadSuites(names: string[], root = guestTestsRoot): Suite[] {
  return names.map((name) => {
    const dir = name.includes("/") ? resolve(name) : join(root, name);
    if (!existsSync(join(dir, "suite.yaml"))) throw new UsageError(`guest test suite ${name}: ${dir}/suite.yaml not found`);
    const def = loadYaml(SuiteSchema, join(dir, "suite.yaml"));
    for (const t of def.tests) {
      if (!existsSync(join(dir, t.run))) throw new UsageError(`${dir}/suite.yaml: test ${t.name} runs ${t.run}, which does not exist`);
      const problems = expectationProblems(t.expects);
      if (problems.length > 0) throw new UsageError(`${dir}/suite.yaml: test ${t.name} expects what cannot happen`, problems);
    }
    return { def, dir };
  });
}

/** Expectations that can never match: an event name the SMMUv3 architecture does not have. */
export function expectationProblems(expects: readonly TestExpectation[]): string[] {
  const known = new Set(Object.values(SMMU_EVENT_NAMES));
  return expects.flatMap((x) => {
    if (x === "smmu-event") return [];
    const names = [x["smmu-event"].event ?? []].flat();
    return names.filter((n) => !known.has(n)).map((n) => `smmu-event ${n} is not an SMMUv3 event name (${[...known].join(", ")})`);
  });
}
