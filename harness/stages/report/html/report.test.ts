import { describe, expect, it } from "vitest";
import { cpSync, mkdtempSync, readFileSync, existsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { esc, html, trusted } from "./escape.ts";
import { renderRunReport } from "./run-page.ts";
import { benchOf, headlineFigures } from "./bench.ts";
import { goodToBad, type Step } from "./bisect-page.ts";
import { writeBisectReport, writeRunReport } from "./write.ts";
import { HOSTILE, hostileResults } from "./hostile.ts";

const fixtures = join(import.meta.dirname, "../../../../test/fixtures/report");

describe("escaping", () => {
  it("escapes every interpolated string, keeps markup made by html and trusted", () => {
    const name = `a"b'c<d>&e`;
    expect(html`<td title="${name}">${name}</td>`.value).toBe(`<td title="a&quot;b&#39;c&lt;d&gt;&amp;e">a&quot;b&#39;c&lt;d&gt;&amp;e</td>`);
    expect(html`<p>${[html`<b>${"<i>"}</b>`, trusted("<svg></svg>"), null, false, 3]}</p>`.value).toBe("<p><b>&lt;i&gt;</b><svg></svg>3</p>");
    expect(esc("</script>")).toBe("&lt;/script&gt;");
  });

  it("a run full of hostile strings yields a page with no element and no attribute they chose", () => {
    const { results, console } = hostileResults();
    const page = renderRunReport({ results, console, files: [{ name: `a"<b>.log`, size: 1 }] });
    for (const bad of ["<script", "<iframe", "<img", "<b>BUG", "<b>odd", "<svg onload", 'onerror="', 'onmouseover="', "<i>now"])
      expect(page).not.toContain(bad);
    expect(page).toContain(esc(HOSTILE.consoleLine));
    expect(page).toContain(esc(HOSTILE.subject));
    expect(page).toContain('href="a%22%3Cb%3E.log"');
  });
});

describe("run report", () => {
  it("a passing SVA run: PASS, headline figures, four charts (req/s, p50, p99, processes), no console lines (nothing to show them around)", () => {
    const dir = mkdtempSync(join(tmpdir(), "wdh-report-"));
    cpSync(join(fixtures, "pass-sva"), dir, { recursive: true });
    const page = readFileSync(writeRunReport(dir), "utf8");
    expect(page).toContain("PASS (exit 0)");
    expect(page).toContain("SVA queue vs AF_ALG, 1 in flight: 64B 2,615 vs 8,284 req/s (0.3x)");
    expect(page.match(/<figure class="chart"/g)).toHaveLength(4); // req/s, p50, p99, processes
    expect(page).not.toContain('class="console"');
    expect(page.length).toBeLessThan(200_000);
  });

  it("a run whose kernel panicked: the failure first, its report, the decoded stack and the console around it only", () => {
    const dir = mkdtempSync(join(tmpdir(), "wdh-report-"));
    cpSync(join(fixtures, "panic"), dir, { recursive: true });
    const page = readFileSync(writeRunReport(dir), "utf8");
    expect(page).toContain("FAIL (exit 1): regression in guest");
    expect(page.indexOf('id="failures"')).toBeLessThan(page.indexOf('id="tests"'));
    expect(page).toContain("decoded-stack.txt");
    expect(page).toMatch(/<span class="hl">\s*\d+ {2}\[\s+[\d.]+\] Kernel panic - not syncing: dumptest<\/span>/);
    const consoleLines = readFileSync(join(dir, "console.log"), "utf8").split("\n");
    expect(page).not.toContain(esc(consoleLines[2]!)); // the early boot is linked, not copied
  });

  it("a results.json from before the typed outcome: the verdict from its status, exit code and reason", () => {
    const results = JSON.parse(readFileSync(join(fixtures, "panic/results.json"), "utf8"));
    delete results.outcome;
    const page = renderRunReport({ results, files: [] });
    expect(page).toContain("FAIL (exit 1): regression in guest");
    expect(page).toContain("guest: kernel-dies/panics: the kernel died: Kernel panic - not syncing: dumptest");
  });

  it("a results.json it cannot read gives a page saying so, not an exception", () => {
    const dir = mkdtempSync(join(tmpdir(), "wdh-report-"));
    const page = readFileSync(writeRunReport(dir), "utf8");
    expect(page).toContain("The report could not be made");
  });
});

describe("bisection report", () => {
  it("steps from good to bad, links to each step's report, the culprit with its diff", () => {
    const dir = mkdtempSync(join(tmpdir(), "wdh-report-"));
    cpSync(join(fixtures, "bisect"), dir, { recursive: true });
    const page = readFileSync(writeBisectReport(dir, readFileSync(join(dir, "culprit.patch"), "utf8")), "utf8");
    expect(page).toContain("first bad: <code>6563bedc74b8</code>");
    const order = [...page.matchAll(/<div class="step (\w+)[^"]*"><div><span class="st \w+">\w+<\/span> <span class="small">([\w-]+)<\/span>/g)].map(
      (m) => `${m[2]}:${m[1]}`,
    );
    expect(order).toEqual(["good-end:good", "step:good", "step:bad", "bad-end:bad"]);
    for (const step of ["20261201T151828-01-bad-end-f2fef2d08e-run1-31446", "20261201T151940-04-step-6563bedc74-run1-31446"]) {
      expect(page).toContain(`href="steps/${step}/report.html"`);
      expect(existsSync(join(dir, "steps", step))).toBe(true);
    }
    expect(page).toContain('<span class="add">+static int *virtio_crypto_fixture_ptr;</span>');
  });

  it("orders steps along history whatever order they ran in", () => {
    const s = (role: Step["role"], verdict: Step["verdict"], commit: string): Step => ({
      role,
      verdict,
      commit,
      subject: "",
      reason: "",
      outcomes: [],
      durationMs: 0,
      confidence: "",
    });
    const steps = [
      s("bad-end", "bad", "B"),
      s("good-end", "good", "G"),
      s("step", "good", "g1"),
      s("step", "bad", "b1"),
      s("step", "good", "g2"),
      s("step", "bad", "b2"),
    ];
    expect(goodToBad(steps).map((x) => x.commit)).toEqual(["G", "g1", "g2", "b2", "b1", "B"]);
  });
});

describe("headline figures", () => {
  it("WarpDrive's user queue against AF_ALG with the bench's own speed-up", () => {
    const bench = benchOf([
      {
        suite: "warpdrive",
        name: "bench",
        metrics: {
          "af_alg.64B.req_per_s": { value: 255, unit: "req/s" },
          "user_queue.64B.req_per_s": { value: 8348, unit: "req/s" },
          "speedup.64B": { value: 32.71, unit: "x" },
        },
      },
    ]);
    expect(headlineFigures(bench)).toEqual(["bench: user queue vs AF_ALG: 64B 8,348 vs 255 req/s (32.7x)"]);
  });
});

describe("bisection report with the culprit from the tree", () => {
  it("keeps git show of the first bad commit as culprit.patch and shows it; says so when the commit is gone", async () => {
    const { execFileSync } = await import("node:child_process");
    const { writeBisectHtml } = await import("./bisect-write.ts");
    const { realDeps } = await import("../../../lib/deps.ts");
    const tree = mkdtempSync(join(tmpdir(), "wdh-tree-"));
    const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=T", "-c", "user.email=t@t", ...args], { cwd: tree, encoding: "utf8" }).trim();
    git("init", "-q");
    writeFileSync(join(tree, "a.c"), "int a;\n");
    git("add", "a.c");
    git("commit", "-q", "-m", "base");
    writeFileSync(join(tree, "a.c"), "int a;\nint *p = 0; /* <b>&</b> */\n");
    git("commit", "-q", "-am", 'crypto: break "it" <here>');
    const commit = git("rev-parse", "HEAD");
    const dir = mkdtempSync(join(tmpdir(), "wdh-report-"));
    cpSync(join(fixtures, "bisect"), dir, { recursive: true });
    const { exec } = realDeps({ signal: new AbortController().signal });
    const page = readFileSync(await writeBisectHtml(dir, commit, tree, exec), "utf8");
    expect(readFileSync(join(dir, "culprit.patch"), "utf8")).toContain(`commit ${commit}`);
    expect(page).toContain('<span class="add">+int *p = 0; /* &lt;b&gt;&amp;&lt;/b&gt; */</span>');
    expect(page).toContain("crypto: break &quot;it&quot; &lt;here&gt;");
    const missing = mkdtempSync(join(tmpdir(), "wdh-report-"));
    cpSync(join(fixtures, "bisect"), missing, { recursive: true, filter: (f) => !f.endsWith("culprit.patch") });
    expect(readFileSync(await writeBisectHtml(missing, "0".repeat(40), tree, exec), "utf8")).toContain("no diff");
  });
});
