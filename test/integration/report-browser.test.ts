// report.html in a real browser: Debian's chromium, headless, driven by puppeteer-core (no browser is
// downloaded, at install or here). The reports of a passing run, a run whose kernel panicked and a
// bisection open from file://, show their verdict, failing test and charts, log no error and fetch
// nothing; a run of hostile strings shows them as text. Screenshots go to runs/report-screenshots/.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { writeBisectReport, writeRunReport } from "../../harness/stages/report/html/write.ts";
import { renderRunReport } from "../../harness/stages/report/html/run-page.ts";
import { HOSTILE, hostileResults } from "../../harness/stages/report/html/hostile.ts";

const root = join(import.meta.dirname, "../..");
const fixtures = join(root, "test/fixtures/report");
const shots = join(root, "runs/report-screenshots");
const chromium = process.env.WDH_CHROMIUM ?? "/usr/bin/chromium";
const haveBrowser = existsSync(chromium);

// CI installs chromium (scripts/install-host-deps.sh): there a missing browser fails instead of skipping.
describe.skipIf(!haveBrowser && !process.env.CI)("report.html in headless chromium", () => {
  let browser: Browser;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "wdh-report-browser-"));
    for (const name of ["pass-sva", "panic", "bisect"]) cpSync(join(fixtures, name), join(dir, name), { recursive: true });
    writeRunReport(join(dir, "pass-sva"));
    writeRunReport(join(dir, "panic"));
    for (const step of [
      "20261201T151828-01-bad-end-f2fef2d08e-run1-31446",
      "20261201T151835-02-good-end-d5c70bb783-run1-31446",
      "20261201T151907-03-step-27ed9d3584-run1-31446",
      "20261201T151940-04-step-6563bedc74-run1-31446",
    ]) {
      writeRunReport(join(dir, "bisect/steps", step));
    }
    writeBisectReport(join(dir, "bisect"), readFileSync(join(dir, "bisect/culprit.patch"), "utf8"));
    const { results, console } = hostileResults();
    mkdirSync(join(dir, "hostile"));
    writeFileSync(join(dir, "hostile/report.html"), renderRunReport({ results, console, files: [{ name: `a"<b>.log`, size: 1 }] }));
    mkdirSync(shots, { recursive: true });
    browser = await puppeteer.launch({ executablePath: chromium, headless: true, args: ["--no-sandbox", "--disable-gpu", "--allow-file-access-from-files"] });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  /** Opens a report; every console message of level error, page error and request that is not the file itself is collected. */
  async function open(file: string, shot: string): Promise<{ page: Page; errors: string[]; requests: string[] }> {
    const page = await browser.newPage();
    await page.setViewport({ width: 1200, height: 900 });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("request", (r) => requests.push(r.url()));
    const url = pathToFileURL(file).href;
    await page.goto(url, { waitUntil: "load" });
    await page.screenshot({ path: join(shots, shot), fullPage: true });
    expect(statSync(join(shots, shot)).size).toBeGreaterThan(10_000);
    return { page, errors, requests: requests.filter((u) => u !== url) };
  }

  const text = (page: Page, selector: string) => page.$eval(selector, (e) => (e as HTMLElement).innerText);

  it("a passing run: PASS, the headline figures and four charts that draw bars", async () => {
    const { page, errors, requests } = await open(join(dir, "pass-sva/report.html"), "pass-sva.png");
    expect(await text(page, "#verdict")).toContain("PASS (exit 0)");
    expect(await text(page, ".figures")).toMatch(/SVA queue vs AF_ALG, 1 in flight: 64B 2,615 vs 8,284 req\/s/);
    const charts = await page.$$eval(".chart svg", (svgs) =>
      svgs.map((s) => ({ w: s.getBoundingClientRect().width, bars: s.querySelectorAll("path").length, text: s.textContent ?? "" })),
    );
    expect(charts).toHaveLength(4);
    for (const c of charts) {
      expect(c.w).toBeGreaterThan(300);
      expect(c.bars).toBeGreaterThan(5);
    }
    expect(charts[0]!.text).toContain("AF_ALG qd1");
    expect(charts[3]!.text).toContain("4 processes");
    expect(await page.$$eval("details.test", (d) => d.length)).toBe(12);
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
  });

  it("a run whose kernel panicked: FAIL, the failing test first with the report, decoded stack and console", async () => {
    const { page, errors, requests } = await open(join(dir, "panic/report.html"), "panic.png");
    expect(await text(page, "#verdict")).toMatch(/FAIL \(exit 1\)[\s\S]*kernel-dies\/panics: the kernel died: Kernel panic - not syncing: dumptest/);
    const failures = await text(page, ".card.failed");
    expect(failures).toContain("kernel-dies/panics");
    expect(failures).toContain("decoded stack");
    expect(await text(page, ".card.failed .hl")).toContain("Kernel panic - not syncing: dumptest");
    // the failing test's details are open, the passing ones closed
    expect(await page.$$eval("details.test", (d) => d.map((x) => (x as HTMLDetailsElement).open))).toEqual([true, false, false]);
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
  });

  it("a bisection: the first bad commit, the steps from good to bad, its diff, and each step's report opens", async () => {
    const { page, errors, requests } = await open(join(dir, "bisect/report.html"), "bisect.png");
    expect(await text(page, "#verdict")).toContain("first bad: 6563bedc74b8 crypto: virtio - store through a NULL pointer on encrypt (test fixture)");
    const steps = await page.$$eval(".step", (s) => s.map((x) => x.className));
    expect(steps).toEqual(["step good", "step good", "step bad culprit", "step bad"]);
    expect(await page.$$eval(".diff .add", (a) => a.length)).toBeGreaterThan(2);
    const link = await page.$eval(".step.culprit a", (a) => (a as HTMLAnchorElement).href);
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    await page.goto(link);
    expect(await text(page, "#verdict")).toContain("FAIL (exit 1)");
    expect(await text(page, ".card.failed")).toContain("baseline/aes-cbc-kat");
  });

  it("hostile strings in test names, reasons, console lines, patches and metrics come out as text", async () => {
    const { page, errors } = await open(join(dir, "hostile/report.html"), "hostile.png");
    // nothing ran: no script, no handler fired, no element the strings asked for
    expect(await page.evaluate(() => (window as unknown as { __pwned?: string }).__pwned)).toBeUndefined();
    await page.hover("details.test summary"); // an injected onmouseover would fire here
    expect(await page.evaluate(() => (window as unknown as { __pwned?: string }).__pwned)).toBeUndefined();
    expect(await page.$$eval("script, iframe, img, body svg[onload], [onerror], [onmouseover]", (e) => e.length)).toBe(0);
    const body = await page.evaluate(() => document.body.innerText);
    for (const s of [HOSTILE.consoleLine, HOSTILE.subject, `${HOSTILE.suite}/${HOSTILE.name}`]) expect(body).toContain(s);
    expect(await text(page, ".card.failed .hl")).toContain(HOSTILE.consoleLine);
    expect(errors).toEqual([]);
  });
});
