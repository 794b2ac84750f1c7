import { defineConfig } from "vitest/config";

// Two tiers, both run by .ci/run:
//   npm test          typecheck, lint, "unit" (pure logic), "integration" (small real-tool tests: git am,
//                     merge_config.sh, checkpatch, a fake apt mirror, chromium) and "e2e" (the default job:
//                     build, boot, the baseline and warpdrive suites, each failure mode): minutes warm.
//   npm run test:heavy  "heavy": everything else that builds or boots (bisections, replay, guest deaths, the
//                     debug kernel, the SVA tree and QEMU's build, LAVA). It reuses what the first tier built.
// An e2e test takes the 10 min default, or its own timeout (test/e2e/cli.ts) where it may build cold.
const e2e = { testTimeout: 10 * 60_000, hookTimeout: 40 * 60_000, fileParallelism: false };
const heavy = ["bisect", "debug", "guest-death", "lava", "lava-run-direct", "outcomes", "replay", "sva", "sva-emulation"];

export default defineConfig({
  test: {
    // The JSON report lets .ci/run print a plain "N passed, N failed" closing line.
    reporters: ["default", ["json", { outputFile: `runs/vitest-results${process.env.WDH_TIER ? `-${process.env.WDH_TIER}` : ""}.json` }]],
    projects: [
      { test: { name: "unit", include: ["harness/**/*.test.ts"], testTimeout: 60_000 } },
      { test: { name: "integration", include: ["test/integration/**/*.test.ts"], testTimeout: 180_000 } },
      { test: { name: "e2e", include: ["test/e2e/boot-test.test.ts"], ...e2e } },
      { test: { name: "heavy", include: heavy.map((f) => `test/e2e/${f}.test.ts`), ...e2e } },
    ],
  },
});
