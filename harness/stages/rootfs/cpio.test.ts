import { describe, expect, it } from "vitest";
import { cpioListLine, withParents, type CpioEntry } from "./cpio.ts";
import { keepInGuest } from "./rootfs.ts";

describe("gen_init_cpio list", () => {
  it("writes each entry type in gen_init_cpio's format, owned by root", () => {
    expect(cpioListLine({ type: "dir", name: "/tmp", mode: 0o41777 })).toBe("dir /tmp 1777 0 0");
    expect(cpioListLine({ type: "file", name: "/init", source: "/x/init", mode: 0o100755 })).toBe("file /init /x/init 0755 0 0");
    expect(cpioListLine({ type: "slink", name: "/lib", target: "usr/lib", mode: 0o777 })).toBe("slink /lib usr/lib 0777 0 0");
    expect(cpioListLine({ type: "nod", name: "/dev/console", mode: 0o600, dev: "c", major: 5, minor: 1 })).toBe("nod /dev/console 0600 0 0 c 5 1");
  });

  it("adds missing parents before their children and drops repeated directories", () => {
    const entries: CpioEntry[] = [
      { type: "dir", name: "/etc", mode: 0o755 },
      { type: "file", name: "/opt/wdh/baseline/t.sh", source: "/s/t.sh", mode: 0o644 },
      { type: "dir", name: "/etc", mode: 0o700 },
    ];
    expect(withParents(entries).map((e) => `${e.type} ${e.name}`)).toEqual([
      "dir /etc",
      "dir /opt",
      "dir /opt/wdh",
      "dir /opt/wdh/baseline",
      "file /opt/wdh/baseline/t.sh",
    ]);
  });

  it("keeps programs and libraries of the packages, not docs, locales or gconv", () => {
    expect(keepInGuest("/usr/sbin/dropbear")).toBe(true);
    expect(keepInGuest("/usr/lib/aarch64-linux-gnu/libc.so.6")).toBe(true);
    expect(keepInGuest("/usr/share/doc")).toBe(false);
    expect(keepInGuest("/usr/lib/aarch64-linux-gnu/gconv")).toBe(false);
    expect(keepInGuest("/etc/default")).toBe(false);
  });
});
