import { defineConfig } from "vitest/config";

// "unit": pure logic and small real-tool integration tests (git am, merge_config.sh), seconds.
// "e2e": builds the default kernel, boots it under QEMU and runs the baseline suite, minutes.
export default defineConfig({
  test: {
    // The JSON report lets .ci/run print a plain "N passed, N failed" closing line.
    reporters: ["default", ["json", { outputFile: "runs/vitest-results.json" }]],
    projects: [
      {
        test: {
          name: "unit",
          include: ["harness/**/*.test.ts", "test/integration/**/*.test.ts"],
          testTimeout: 120_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          testTimeout: 3_600_000,
          hookTimeout: 3_600_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
