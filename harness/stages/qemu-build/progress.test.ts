// The QEMU build's progress line: ninja's own count and total, a percentage, and the object it compiles,
// once per percent (the plain view thins it to one line per ~10 %).
import { describe, expect, it } from "vitest";
import { ninjaProgress } from "./build.ts";

describe("ninjaProgress", () => {
  it("turns ninja's status lines into the harness's count, percentage and object; other lines are the log's", () => {
    const shown: string[] = [];
    const onLine = ninjaProgress((m) => shown.push(m));
    // as ninja 1.11 prints them while building QEMU 10.2
    onLine("[1/2862] Generating qemu-version.h with a custom command (wrapped by meson to capture output)");
    onLine("../hw/arm/smmuv3.c: In function 'smmuv3_translate':");
    onLine("[1431/2862] Compiling C object libqemu-aarch64-softmmu.a.p/hw_arm_smmuv3.c.o");
    onLine("[1432/2862] Compiling C object libqemu-aarch64-softmmu.a.p/hw_arm_smmu-common.c.o"); // same percent: not shown
    onLine("[2862/2862] Linking target qemu-system-aarch64");
    expect(shown).toHaveLength(3);
    // what is cut to 80 characters, so one progress line fits a terminal
    expect(shown[0]).toBe("[1/2862] 0% Generating qemu-version.h with a custom command (wrapped by meson to capture out");
    expect(shown[1]).toMatch(/^\[1431\/2862] 50% (~[^ ]+ [a-z]+ left )?CC libqemu-aarch64-softmmu\.a\.p\/hw_arm_smmuv3\.c\.o$/);
    expect(shown[2]).toBe("[2862/2862] 100% Linking target qemu-system-aarch64");
  });
});
