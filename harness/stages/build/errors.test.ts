import { describe, expect, it } from "vitest";
import { describeBuildError, firstBuildErrors } from "./errors.ts";

describe("firstBuildErrors", () => {
  it("finds compiler errors with file:line:column", () => {
    const log = [
      "  CC      drivers/crypto/virtio/virtio_crypto_core.o",
      "../drivers/crypto/virtio/virtio_crypto_core.c: In function 'virtcrypto_probe':",
      "../drivers/crypto/virtio/virtio_crypto_core.c:364:9: error: 'foo' undeclared (first use in this function)",
      "  364 |         foo = 1;",
      "make[5]: *** [../scripts/Makefile.build:229: drivers/crypto/virtio/virtio_crypto_core.o] Error 1",
    ].join("\n");
    const [e] = firstBuildErrors(log);
    expect(describeBuildError(e!)).toBe("../drivers/crypto/virtio/virtio_crypto_core.c:364:9: 'foo' undeclared (first use in this function)");
  });

  it("finds fatal errors and linker errors", () => {
    const log = [
      "../drivers/misc/x.c:3:10: fatal error: nothere.h: No such file or directory",
      "aarch64-linux-gnu-ld: drivers/misc/y.o: in function `y_probe':",
      "y.c:(.text+0x14): undefined reference to `missing_symbol'",
    ].join("\n");
    const errors = firstBuildErrors(log);
    expect(errors.map((e) => e.message)).toEqual(["nothere.h: No such file or directory", "undefined reference to `missing_symbol'"]);
  });

  it("falls back to make's own error line", () => {
    expect(firstBuildErrors("make: *** [Makefile:224: __sub-make] Error 2")[0]?.message).toMatch(/Error 2/);
  });

  it("returns nothing for a clean log", () => {
    expect(firstBuildErrors("  CC      init/main.o\n  LD      vmlinux\n")).toEqual([]);
  });
});

describe("firstBuildErrors on an out-of-tree build", () => {
  it("reads paths relative to the tree and plain quotes", () => {
    const log = "/src/linux/drivers/x.c:3:9: error: \u2018foo\u2019 undeclared (first use in this function)";
    expect(describeBuildError(firstBuildErrors(log, 5, "/src/linux")[0]!)).toBe("drivers/x.c:3:9: 'foo' undeclared (first use in this function)");
  });
});
