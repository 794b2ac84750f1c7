// A run whose every string a guest, a patch or a kernel can choose is hostile: HTML, script tags, quotes
// and ampersands in test names, reasons, TAP, kernel log and console lines, metric names, patch subjects.
// The report must show them all as text (report.test.ts, test/integration/report-browser.test.ts).
import type { RunResults } from "../results.ts";

export const HOSTILE = {
  suite: `<script>window.__pwned="suite"</script>`,
  name: `x" onmouseover="window.__pwned='attr'" '<img src=x onerror="window.__pwned='img'">`,
  reason: `</pre></td></table><script>window.__pwned="reason"</script> & "quoted"`,
  consoleLine: `[    1.000000] <b>BUG</b>: </pre><iframe src="javascript:window.__pwned='iframe'"></iframe> & <script>window.__pwned="console"</script>`,
  subject: `crypto: <svg onload="window.__pwned='svg'"> & "quotes" in a subject`,
  metric: `sva.qd1.64B.req_per_s`,
};

export function hostileResults(): { results: RunResults; console: string[] } {
  const consoleLines = [
    "[    0.000000] Booting Linux",
    ...Array.from({ length: 30 }, (_, i) => `[    0.${String(i).padStart(6, "0")}] filler ${i}`),
    HOSTILE.consoleLine,
    "[    1.000001] Call trace:",
    "[    1.000002]  <script>evil()</script>+0x0/0x4",
  ];
  const index = consoleLines.indexOf(HOSTILE.consoleLine);
  const test = `${HOSTILE.suite}/${HOSTILE.name}`;
  const results = {
    run: `hostile-"run"-<1>`,
    status: "fail",
    exitCode: 1,
    reason: `guest: ${test}: ${HOSTILE.reason}`,
    outcome: {
      kind: "regression",
      stage: "guest",
      reason: `guest: ${test}: ${HOSTILE.reason}`,
      details: [HOSTILE.consoleLine],
      signature: { type: "crash", kind: "bug", title: HOSTILE.consoleLine, frames: ["<script>"], text: `BUG: ${HOSTILE.reason}`, consoleLine: index },
      failedTests: [test],
    },
    kernelRelease: `6.12<script>`,
    timings: {},
    stages: [
      { stage: "boot", status: "pass", durationMs: 1000, reason: `ready <i>now</i>` },
      { stage: "guest", status: "fail", durationMs: 2000, reason: HOSTILE.reason, details: [HOSTILE.consoleLine] },
    ],
    tests: [
      {
        suite: HOSTILE.suite,
        name: HOSTILE.name,
        status: "fail",
        reason: HOSTILE.reason,
        durationMs: 12,
        exitCode: 1,
        output: `TAP version 13\n1..2\nok 1 - ${HOSTILE.name}\nnot ok 2 - ${HOSTILE.reason}\n# ${HOSTILE.consoleLine}\n# metric: ${HOSTILE.metric} 1000 req/s\n`,
        metrics: {
          [HOSTILE.metric]: { value: 1000, unit: `req/s<script>` },
          "af_alg.qd1.64B.req_per_s": { value: 100, unit: "req/s" },
          [`<b>odd</b>.64B.req_per_s`]: { value: 5, unit: "x" },
        },
        kernelLog: [HOSTILE.consoleLine],
        findings: [
          { id: "bug", kind: "bug", severity: "error", title: HOSTILE.consoleLine, lineIndex: index, lines: [HOSTILE.consoleLine], stack: [], signature: "x" },
        ],
        kernelReport: [HOSTILE.consoleLine, `<script>window.__pwned="report"</script>`],
        smmuEvents: [{ lineIndex: index, description: `F_TRANSLATION <script>window.__pwned="smmu"</script>`, test, where: `in ${test}`, expected: false }],
      },
    ],
    consoleFindings: [],
    smmu: {
      events: 1,
      attributed: {},
      unexpected: [{ description: `<script>window.__pwned="smmu2"</script>`, where: `in ${test}`, line: index + 1 }],
      suppressed: [],
      burstExhaustedAt: [],
    },
    patches: [
      {
        series: `s"<x>`,
        subject: HOSTILE.subject,
        sha256: "ab".repeat(32),
        commit: "cd".repeat(20),
        provenance: { kind: "mbox", mbox: `/tmp/<x>.mbox`, messageId: `<a"b@c>`, part: "1/1" },
        attestations: [],
      },
    ],
    checkpatch: [
      {
        file: `/tmp/0001-<x>.patch`,
        series: "s",
        errors: 1,
        warnings: 0,
        checks: 0,
        messages: [`ERROR: <script>window.__pwned="checkpatch"</script>`],
        verdict: "errors",
      },
    ],
  } as unknown as RunResults;
  return { results, console: consoleLines };
}
