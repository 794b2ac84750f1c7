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
  return `${d.option}: ${d.fragment}:${d.line} asked for ${d.asked === "n" ? "not set" : `=${d.asked}`}, .config has it ${got} (an unmet dependency?)`;
}
