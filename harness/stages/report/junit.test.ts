import { describe, expect, it } from "vitest";
import { toJUnit, type JUnitCase, type JUnitSuite } from "./junit.ts";

// A strict little XML reader, enough for what toJUnit writes (no CDATA, comments, DOCTYPE or
// processing instructions besides the declaration). Throws on anything not well-formed.
interface El {
  name: string;
  attrs: Record<string, string>;
  children: El[];
  text: string;
}

const XML_CHARS = /^[\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;
const NAME = "[A-Za-z_][\\w.-]*";

function unescape(s: string): string {
  if (/&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(s)) throw new Error(`bare & in ${JSON.stringify(s)}`);
  return s.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, e: string) =>
    e.startsWith("#x")
      ? String.fromCodePoint(parseInt(e.slice(2), 16))
      : e.startsWith("#")
        ? String.fromCodePoint(Number(e.slice(1)))
        : ({ amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" } as Record<string, string>)[e]!,
  );
}

function parseXml(xml: string): El {
  if (!XML_CHARS.test(xml)) throw new Error("character not allowed in XML 1.0");
  let rest = xml.replace(/^<\?xml version="1\.0" encoding="UTF-8"\?>\n/, "");
  const tag = new RegExp(`^<(/?)(${NAME})((?:\\s+${NAME}="[^"<]*")*)\\s*(/?)>`);
  const doc: El = { name: "#document", attrs: {}, children: [], text: "" };
  const stack: El[] = [doc];
  while (rest.length > 0) {
    const lt = rest.indexOf("<");
    const chunk = lt < 0 ? rest : rest.slice(0, lt);
    if (chunk.includes("]]>")) throw new Error("]]> in text");
    stack[stack.length - 1]!.text += unescape(chunk);
    if (lt < 0) break;
    rest = rest.slice(lt);
    const m = rest.match(tag);
    if (!m) throw new Error(`malformed markup at ${JSON.stringify(rest.slice(0, 40))}`);
    const [all, close, name, attrText, selfClose] = m;
    rest = rest.slice(all.length);
    if (close) {
      const open = stack.pop();
      if (open?.name !== name || stack.length === 0) throw new Error(`</${name}> closes <${open?.name}>`);
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const [, k, v] of attrText!.matchAll(new RegExp(`(${NAME})="([^"]*)"`, "g"))) {
      if (k! in attrs) throw new Error(`duplicate attribute ${k}`);
      attrs[k!] = unescape(v!);
    }
    const el: El = { name: name!, attrs, children: [], text: "" };
    stack[stack.length - 1]!.children.push(el);
    if (!selfClose) stack.push(el);
  }
  if (stack.length !== 1) throw new Error(`unclosed <${stack[stack.length - 1]!.name}>`);
  if (doc.children.length !== 1 || doc.text.trim() !== "") throw new Error("not exactly one root element");
  return doc.children[0]!;
}

const all = (el: El, name: string): El[] => [...(el.name === name ? [el] : []), ...el.children.flatMap((c) => all(c, name))];

const c = (name: string, status: JUnitCase["status"], extra: Partial<JUnitCase> = {}): JUnitCase => ({
  classname: "baseline",
  name,
  durationMs: 1500,
  status,
  ...extra,
});

describe("toJUnit", () => {
  const suites: JUnitSuite[] = [
    {
      name: "run1/stages",
      timestamp: "2026-11-25T02:00:00.000Z",
      cases: [c("build", "pass", { classname: "harness", durationMs: 61234 }), c("boot", "pass", { classname: "harness" })],
    },
    {
      name: "run1/guest-tests",
      cases: [
        c("smmu-probed", "pass", { output: "TAP version 13\n1..1\nok 1 - probed\n" }),
        c("aes-cbc-kat", "fail", {
          message: "1 of 3 points failed: decrypt matches F.2.2",
          output: "not ok 2 - decrypt matches F.2.2\n",
          kernelLog: "alg: skcipher: cbc-aes-virtio decryption test failed",
        }),
        c("vfio", "skip", { message: "skipped: no VFIO" }),
        c("hung", "error", { message: "the harness lost the SSH session" }),
      ],
    },
  ];

  it("counts tests, failures, errors, skips and time per suite and in total", () => {
    const root = parseXml(toJUnit(suites));
    expect(root.name).toBe("testsuites");
    expect(root.attrs).toEqual({ name: "warpdrive-harness", tests: "6", failures: "1", errors: "1", skipped: "1", time: "68.734" });
    const [stages, guest] = root.children;
    expect(stages!.attrs).toEqual({
      name: "run1/stages",
      tests: "2",
      failures: "0",
      errors: "0",
      skipped: "0",
      time: "62.734",
      timestamp: "2026-11-25T02:00:00.000Z",
    });
    expect(guest!.attrs).toEqual({ name: "run1/guest-tests", tests: "4", failures: "1", errors: "1", skipped: "1", time: "6.000" });
    expect(all(root, "testcase").map((t) => [t.attrs.classname, t.attrs.name, t.attrs.time])).toEqual([
      ["harness", "build", "61.234"],
      ["harness", "boot", "1.500"],
      ["baseline", "smmu-probed", "1.500"],
      ["baseline", "aes-cbc-kat", "1.500"],
      ["baseline", "vfio", "1.500"],
      ["baseline", "hung", "1.500"],
    ]);
  });

  it("writes failure, error, skipped, system-out and system-err", () => {
    const root = parseXml(toJUnit(suites));
    const [failure] = all(root, "failure");
    expect(failure!.attrs.message).toBe("1 of 3 points failed: decrypt matches F.2.2");
    expect(all(root, "error")[0]!.attrs.message).toBe("the harness lost the SSH session");
    expect(all(root, "skipped")[0]!.attrs.message).toBe("skipped: no VFIO");
    expect(all(root, "system-out").map((e) => e.text)).toEqual(["TAP version 13\n1..1\nok 1 - probed\n", "not ok 2 - decrypt matches F.2.2\n"]);
    expect(all(root, "system-err").map((e) => e.text)).toEqual(["alg: skcipher: cbc-aes-virtio decryption test failed"]);
    expect(all(root, "testcase")[0]!.children).toEqual([]);
  });

  it("escapes markup characters in attributes and text, and keeps line ends", () => {
    const nasty = `a <b> & "c" 'd' ]]> e\r\nf\tg`;
    const xml = toJUnit([{ name: nasty, cases: [c(nasty, "fail", { classname: nasty, message: nasty, output: nasty, kernelLog: nasty })] }]);
    expect(xml).not.toContain("<b>");
    expect(xml).not.toContain("]]>");
    const root = parseXml(xml);
    const tc = all(root, "testcase")[0]!;
    expect(all(root, "testsuite")[0]!.attrs.name).toBe(nasty);
    expect(tc.attrs.name).toBe(nasty);
    expect(tc.attrs.classname).toBe(nasty);
    expect(all(root, "failure")[0]!.attrs.message).toBe(nasty);
    expect(all(root, "failure")[0]!.text).toBe(nasty);
    expect(all(root, "system-out")[0]!.text).toBe(nasty);
    expect(all(root, "system-err")[0]!.text).toBe(nasty);
  });

  it("drops ANSI sequences and replaces characters XML 1.0 forbids", () => {
    const console = "[   12.5] \x1b[1;31mBUG:\x1b[0m KASAN\x00 \x07bell \x08 \uFFFF \uD800 ok \u{1F600}";
    const xml = toJUnit([{ name: "s", cases: [c("t", "fail", { message: console, kernelLog: console })] }]);
    // eslint-disable-next-line no-control-regex -- the characters XML 1.0 forbids are the point
    expect(xml).not.toMatch(/[\x00-\x08\x0b\x0c\x0e-\x1f\uFFFE\uFFFF]/);
    const root = parseXml(xml);
    const expected = "[   12.5] BUG: KASAN\uFFFD \uFFFDbell \uFFFD \uFFFD \uFFFD ok \u{1F600}";
    expect(all(root, "system-err")[0]!.text).toBe(expected);
    expect(all(root, "failure")[0]!.attrs.message).toBe(expected);
  });

  it("writes an empty report", () => {
    const root = parseXml(toJUnit([]));
    expect(root.attrs).toMatchObject({ tests: "0", failures: "0", time: "0.000" });
    expect(root.children).toEqual([]);
  });

  it("the checker itself rejects broken XML", () => {
    expect(() => parseXml("<a><b></a></b>")).toThrow();
    expect(() => parseXml('<a x="1 & 2"/>')).toThrow();
    expect(() => parseXml("<a>x < y</a>")).toThrow();
    expect(() => parseXml("<a>\x00</a>")).toThrow();
    expect(() => parseXml("<a/><b/>")).toThrow();
  });
});
