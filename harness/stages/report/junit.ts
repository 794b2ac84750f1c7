// Provisional JUnit writer (replaced by the full one).
export interface JUnitCase { classname: string; name: string; durationMs: number; status: "pass" | "fail" | "skip" | "error"; message?: string; output?: string; kernelLog?: string }
export interface JUnitSuite { name: string; timestamp?: string; cases: JUnitCase[] }
const esc = (s: string) => s.replace(/[^\t\n\r\x20-\uD7FF\uE000-\uFFFD]/g, "").replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
export function toJUnit(suites: JUnitSuite[]): string {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>', "<testsuites>"];
  for (const s of suites) {
    out.push(`<testsuite name="${esc(s.name)}" tests="${s.cases.length}">`);
    for (const c of s.cases) {
      out.push(`<testcase classname="${esc(c.classname)}" name="${esc(c.name)}" time="${(c.durationMs / 1000).toFixed(3)}">`);
      if (c.status === "fail") out.push(`<failure message="${esc(c.message ?? "")}"/>`);
      if (c.status === "skip") out.push(`<skipped message="${esc(c.message ?? "")}"/>`);
      if (c.output) out.push(`<system-out>${esc(c.output)}</system-out>`);
      if (c.kernelLog) out.push(`<system-err>${esc(c.kernelLog)}</system-err>`);
      out.push("</testcase>");
    }
    out.push("</testsuite>");
  }
  out.push("</testsuites>");
  return out.join("\n") + "\n";
}
