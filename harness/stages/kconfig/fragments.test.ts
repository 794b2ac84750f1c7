import { describe, expect, it } from "vitest";
import { describeDropped, parseDotConfig, parseFragment, verifyKconfig } from "./fragments.ts";

const dotConfig = parseDotConfig(
  ["CONFIG_PCI=y", "# CONFIG_SECCOMP is not set", 'CONFIG_CMDLINE="console=ttyAMA0"', "CONFIG_NR_CPUS=4"].join("\n"),
);

describe("verifyKconfig", () => {
  it("passes when every option came out as asked", () => {
    const asked = parseFragment("CONFIG_PCI=y\n# CONFIG_SECCOMP is not set\nCONFIG_NR_CPUS=4\n", "a.config");
    expect(verifyKconfig(asked, dotConfig)).toEqual([]);
  });

  it("names an option that did not survive, what was asked and what came out", () => {
    const asked = parseFragment("# comment\nCONFIG_SECCOMP=y\nCONFIG_UACCE=y\n", "uacce.config");
    const dropped = verifyKconfig(asked, dotConfig);
    expect(dropped).toEqual([
      { option: "CONFIG_SECCOMP", asked: "y", got: "n", fragment: "uacce.config", line: 2 },
      { option: "CONFIG_UACCE", asked: "y", got: "n", fragment: "uacce.config", line: 3 },
    ]);
    expect(describeDropped(dropped[0]!)).toBe(
      "CONFIG_SECCOMP: uacce.config:2 asked for =y, .config has it not set (an unmet dependency?)",
    );
  });

  it("compares strings and numbers exactly", () => {
    const asked = parseFragment('CONFIG_CMDLINE="quiet"\nCONFIG_NR_CPUS=8', "f");
    expect(verifyKconfig(asked, dotConfig).map((d) => d.got)).toEqual(['"console=ttyAMA0"', "4"]);
  });

  it("checks only the last request when fragments disagree, as merge_config.sh does", () => {
    const asked = [...parseFragment("CONFIG_PCI=n", "first"), ...parseFragment("CONFIG_PCI=y", "second")];
    // "CONFIG_PCI=n" is a value in a fragment; the later fragment overrides it.
    expect(verifyKconfig(asked, dotConfig)).toEqual([]);
  });
});
