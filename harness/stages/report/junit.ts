// JUnit XML as Jenkins (junit plugin), GitLab (artifacts:reports:junit) and GitHub test-report actions
// read it: <testsuites> / <testsuite> / <testcase> with <failure>, <error>, <skipped>, <system-out>
// (the test's output) and <system-err> (the kernel log written while it ran). No CDATA: all text is
// escaped, and characters XML 1.0 forbids (kernel consoles emit NULs and escape sequences) are dropped.

export interface JUnitCase {
  classname: string;
  name: string;
  durationMs: number;
  status: "pass" | "fail" | "skip" | "error";
  message?: string;
  output?: string;
  kernelLog?: string;
}

export interface JUnitSuite {
  name: string;
  /** ISO 8601, e.g. new Date().toISOString(); the attribute is left out without it. */
  timestamp?: string;
  cases: JUnitCase[];
}

interface Counts {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  ms: number;
}

export function toJUnit(suites: JUnitSuite[], name = "warpdrive-harness"): string {
  const all = count(suites.flatMap((s) => s.cases));
  const out = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="${attr(name)}" tests="${all.tests}" failures="${all.failures}" errors="${all.errors}" skipped="${all.skipped}" time="${seconds(all.ms)}">`,
  ];
  for (const s of suites) {
    const c = count(s.cases);
    const timestamp = s.timestamp ? ` timestamp="${attr(s.timestamp)}"` : "";
    out.push(
      `  <testsuite name="${attr(s.name)}" tests="${c.tests}" failures="${c.failures}" errors="${c.errors}" skipped="${c.skipped}" time="${seconds(c.ms)}"${timestamp}>`,
    );
    for (const tc of s.cases) out.push(...testcase(tc));
    out.push("  </testsuite>");
  }
  out.push("</testsuites>");
  return out.join("\n") + "\n";
}

function testcase(c: JUnitCase): string[] {
  const open = `    <testcase classname="${attr(c.classname)}" name="${attr(c.name)}" time="${seconds(c.durationMs)}"`;
  const body: string[] = [];
  const message = c.message ?? "";
  if (c.status === "fail" || c.status === "error") {
    const tag = c.status === "fail" ? "failure" : "error";
    body.push(`      <${tag} message="${attr(message)}" type="${tag}">${text(message)}</${tag}>`);
  } else if (c.status === "skip") {
    body.push(`      <skipped message="${attr(message)}"/>`);
  }
  if (c.output) body.push(`      <system-out>${text(c.output)}</system-out>`);
  if (c.kernelLog) body.push(`      <system-err>${text(c.kernelLog)}</system-err>`);
  return body.length === 0 ? [`${open}/>`] : [`${open}>`, ...body, "    </testcase>"];
}

function count(cases: JUnitCase[]): Counts {
  return {
    tests: cases.length,
    failures: cases.filter((c) => c.status === "fail").length,
    errors: cases.filter((c) => c.status === "error").length,
    skipped: cases.filter((c) => c.status === "skip").length,
    ms: cases.reduce((sum, c) => sum + Math.max(0, c.durationMs), 0),
  };
}

function seconds(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(3);
}

// ANSI/VT100 sequences (colours, cursor moves) go whole, not just their ESC.
// eslint-disable-next-line no-control-regex -- ESC is what it matches
const ANSI = /\x1b(?:\[[0-9;?]*[ -/]*[@-~]|[@-Z\\-_])/g;
// Everything outside XML 1.0's Char production, lone surrogates included (the u flag sees code points).
const NOT_XML_CHAR = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

function clean(s: string): string {
  return s.replace(ANSI, "").replace(NOT_XML_CHAR, "\uFFFD");
}

/** Element text. CR is kept as a reference, or parsers would turn CR LF into LF. */
function text(s: string): string {
  return clean(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/\r/g, "&#13;");
}

/** Attribute value in double quotes; tab and line ends as references, or parsers turn them into spaces. */
function attr(s: string): string {
  return text(s).replace(/"/g, "&quot;").replace(/\t/g, "&#9;").replace(/\n/g, "&#10;");
}
