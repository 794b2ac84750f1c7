// Reading Kconfig fragments and .config files, and checking that every option a fragment asked for
// survived merge_config.sh + olddefconfig. Pure functions: unit-tested without a kernel tree.

/** "y", "m", a quoted string or a number; "n" stands for "# CONFIG_X is not set". */
export type KconfigValue = string;

export interface RequestedOption {
  option: string; // CONFIG_FOO
  value: KconfigValue;
  fragment: string;
  line: number;
}

export interface DroppedOption {
  option: string;
  asked: KconfigValue;
  got: KconfigValue; // "n" when absent or "is not set"
  fragment: string;
  line: number;
  /** Where the option is defined and what its `depends on` lines ask, with the values they have now. */
  dependsOn?: { defined: string; expressions: string[]; values: Record<string, KconfigValue> };
}

const SET = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/;
const UNSET = /^# (CONFIG_[A-Za-z0-9_]+) is not set$/;

export function parseFragment(text: string, fragment: string): RequestedOption[] {
  const options: RequestedOption[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    const set = SET.exec(line);
    const unset = UNSET.exec(line);
    if (set) options.push({ option: set[1]!, value: set[2]!, fragment, line: i + 1 });
    else if (unset) options.push({ option: unset[1]!, value: "n", fragment, line: i + 1 });
  });
  return options;
}

export function parseDotConfig(text: string): Map<string, KconfigValue> {
  const values = new Map<string, KconfigValue>();
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    const set = SET.exec(line);
    const unset = UNSET.exec(line);
    if (set) values.set(set[1]!, set[2]!);
    else if (unset) values.set(unset[1]!, "n");
  }
  return values;
}

/**
 * Options asked for that did not come out as asked. When two fragments ask for the same option, the
 * later one wins (as in merge_config.sh), and only that request is checked.
 */
export function verifyKconfig(requested: RequestedOption[], dotConfig: Map<string, KconfigValue>): DroppedOption[] {
  const last = new Map<string, RequestedOption>();
  for (const r of requested) last.set(r.option, r);
  const dropped: DroppedOption[] = [];
  for (const r of last.values()) {
    const got = dotConfig.get(r.option) ?? "n";
    if (got !== r.value) dropped.push({ option: r.option, asked: r.value, got, fragment: r.fragment, line: r.line });
  }
  return dropped;
}

export function describeDropped(d: DroppedOption): string {
  const got = d.got === "n" ? "not set" : `=${d.got}`;
  const head = `${d.option}: ${d.fragment}:${d.line} asked for ${d.asked === "n" ? "not set" : `=${d.asked}`}, .config has it ${got}`;
  const dep = d.dependsOn;
  if (!dep || dep.expressions.length === 0) return `${head} (an unmet dependency?)`;
  const values = Object.entries(dep.values)
    .map(([k, v]) => `${k}=${v}`)
    .join(", ");
  return `${head}: ${dep.defined} depends on ${dep.expressions.join(" && ")}${values ? ` (now ${values})` : ""}`;
}

/** Kconfig keywords that end a config entry's block. */
const ENTRY_END = /^\s*(config|menuconfig|choice|endchoice|menu|endmenu|if|endif|source|comment|mainmenu)\b/;

/**
 * What the entry whose `config NAME` line is at `lineIndex` (0-based) of a Kconfig file depends on: the
 * `if` blocks and menus around it in that file, then its own `depends on` lines. (Conditions around the
 * `source` line that pulled the file in are not followed.)
 */
export function dependsOnAt(kconfigText: string, lineIndex: number): string[] {
  const lines = withoutHelpText(kconfigText.split("\n"));
  const paren = (e: string) => (/&&|\|\|/.test(e) ? `(${e})` : e);
  const stack: { kind: "if" | "menu" | "choice"; exprs: string[] }[] = [];
  let opened: { exprs: string[] } | undefined; // a menu or choice whose own depends on lines may follow
  for (let i = 0; i < lineIndex; i++) {
    const line = lines[i]!.replace(/#.*/, "");
    const dep = /^\s*depends\s+on\s+(.*?)\s*$/.exec(line);
    if (dep && opened) {
      opened.exprs.push(paren(dep[1]!));
      continue;
    }
    if (/^\s*(config|menuconfig|comment|source)\b/.test(line)) opened = undefined;
    let m: RegExpExecArray | null;
    if ((m = /^\s*if\s+(.*?)\s*$/.exec(line))) {
      stack.push({ kind: "if", exprs: [paren(m[1]!)] });
      opened = undefined;
    } else if (/^\s*endif\b/.test(line)) {
      popTo(stack, "if");
      opened = undefined;
    } else if (/^\s*menu\s/.test(line)) {
      stack.push({ kind: "menu", exprs: [] });
      opened = stack.at(-1);
    } else if (/^\s*endmenu\b/.test(line)) {
      popTo(stack, "menu");
      opened = undefined;
    } else if (/^\s*choice\b/.test(line)) {
      stack.push({ kind: "choice", exprs: [] });
      opened = stack.at(-1);
    } else if (/^\s*endchoice\b/.test(line)) {
      popTo(stack, "choice");
      opened = undefined;
    }
  }
  const own: string[] = [];
  for (let i = lineIndex + 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (ENTRY_END.test(line)) break;
    const m = /^\s*depends\s+on\s+(.*?)\s*(#.*)?$/.exec(line);
    if (m) own.push(paren(m[1]!));
  }
  return [...stack.flatMap((s) => s.exprs), ...own];
}

/** Help text blanked out: it is prose ("if you need them say Y here"), not Kconfig. */
function withoutHelpText(lines: string[]): string[] {
  const indent = (l: string) => l.replace(/\t/g, "        ").search(/\S/);
  let helpIndent: number | undefined;
  return lines.map((line) => {
    if (helpIndent !== undefined) {
      if (line.trim() === "" || indent(line) > helpIndent) return "";
      helpIndent = undefined;
    }
    if (/^\s*(help|---help---)\s*$/.test(line)) helpIndent = indent(line);
    return line;
  });
}

function popTo(stack: { kind: string }[], kind: string): void {
  const at = stack.map((s) => s.kind).lastIndexOf(kind);
  if (at >= 0) stack.length = at;
}

/** The symbols an expression names, with their value in this .config ("n" when absent). */
export function symbolValues(expressions: string[], dotConfig: Map<string, KconfigValue>): Record<string, KconfigValue> {
  const values: Record<string, KconfigValue> = {};
  for (const e of expressions) {
    for (const m of e.matchAll(/\b([A-Z][A-Z0-9_]*)\b/g)) {
      const sym = m[1]!;
      values[sym] = dotConfig.get(`CONFIG_${sym}`) ?? "n";
    }
  }
  return values;
}
