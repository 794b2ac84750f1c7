import { describe, expect, it } from "vitest";
import { dependsOnAt, describeDropped, parseDotConfig, parseFragment, symbolValues, verifyKconfig } from "./fragments.ts";

const dotConfig = parseDotConfig(["CONFIG_PCI=y", "# CONFIG_SECCOMP is not set", 'CONFIG_CMDLINE="console=ttyAMA0"', "CONFIG_NR_CPUS=4"].join("\n"));

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
    expect(describeDropped(dropped[0]!)).toBe("CONFIG_SECCOMP: uacce.config:2 asked for =y, .config has it not set (an unmet dependency?)");
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

describe("a dropped option names its unmet dependency", () => {
  const kconfig = [
    "menuconfig IOMMU_SUPPORT",
    '\tbool "IOMMU Hardware Support"',
    "\tdepends on MMU",
    "",
    "if IOMMU_SUPPORT",
    "",
    'menu "Generic IOMMU Pagetable Support"',
    "\tdepends on ARM64 # a menu's own condition",
    "config IOMMU_IO_PGTABLE",
    "\tbool",
    "endmenu",
    "",
    "config ARM_SMMU_V3",
    '\ttristate "ARM Ltd. System MMU Version 3 (SMMUv3) Support"',
    "\tdepends on ARM64",
    "\tselect IOMMU_API",
    "",
    "endif # IOMMU_SUPPORT",
  ].join("\n");

  it("the if blocks and menus around it, then its own depends on, with the values they have now", () => {
    expect(dependsOnAt(kconfig, 12)).toEqual(["IOMMU_SUPPORT", "ARM64"]);
    expect(dependsOnAt(kconfig, 8)).toEqual(["IOMMU_SUPPORT", "ARM64"]);
    const values = parseDotConfig("CONFIG_ARM64=y\n# CONFIG_IOMMU_SUPPORT is not set\n");
    const expressions = dependsOnAt(kconfig, 12);
    const d = {
      option: "CONFIG_ARM_SMMU_V3",
      asked: "y",
      got: "n",
      fragment: "smmu-only.config",
      line: 1,
      dependsOn: { defined: "drivers/iommu/Kconfig:13", expressions, values: symbolValues(expressions, values) },
    };
    expect(describeDropped(d)).toBe(
      "CONFIG_ARM_SMMU_V3: smmu-only.config:1 asked for =y, .config has it not set: drivers/iommu/Kconfig:13 depends on IOMMU_SUPPORT && ARM64 (now IOMMU_SUPPORT=n, ARM64=y)",
    );
  });

  it("compound expressions stay grouped", () => {
    expect(dependsOnAt("config A\n\tdepends on B || C\n\tdepends on !D\n", 0)).toEqual(["(B || C)", "!D"]);
  });
});

describe("help text", () => {
  it("is prose, not Kconfig: an 'if' in it opens no block", () => {
    const text = [
      "config OMAP_IOMMU",
      '\tbool "OMAP"',
      "\thelp",
      "\t  The drivers depend on iommu support,",
      "\t  if you need them say Y here.",
      "",
      "config B",
      "\tdepends on C",
    ].join("\n");
    expect(dependsOnAt(text, 6)).toEqual(["C"]);
  });
});
