// The ramdisk a LAVA job boots: the harness's initramfs (three concatenated newc archives: base, guest
// tests, run key) merged into ONE newc archive, with a /init that ends in a shell on the console instead of
// dropbear. LAVA unpacks a `cpio.newc` ramdisk with `cpio -i`, which stops at the first archive's trailer,
// and then drives the guest over the serial console, so both changes are needed.
import { gzipSync } from "node:zlib";

export interface NewcEntry {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  mtime: number;
  devmajor: number;
  devminor: number;
  rdevmajor: number;
  rdevminor: number;
  data: Buffer;
}

const MAGIC = "070701";
const HEADER = 110;
const TRAILER = "TRAILER!!!";
const pad4 = (n: number) => (4 - (n % 4)) % 4;

/** Every entry of one or more concatenated newc archives (zero padding between them skipped); later names win. */
export function readNewc(buf: Buffer): NewcEntry[] {
  const byName = new Map<string, NewcEntry>();
  let off = 0;
  while (off < buf.length) {
    if (buf[off] === 0) {
      off++;
      continue;
    }
    const magic = buf.toString("latin1", off, off + 6);
    if (magic !== MAGIC) throw new Error(`not a newc archive at byte ${off} (magic ${JSON.stringify(magic)})`);
    const field = (i: number) => parseInt(buf.toString("latin1", off + 6 + i * 8, off + 14 + i * 8), 16);
    const namesize = field(11);
    const filesize = field(6);
    const nameStart = off + HEADER;
    const name = buf.toString("utf8", nameStart, nameStart + namesize - 1);
    const dataStart = nameStart + namesize + pad4(HEADER + namesize);
    const next = dataStart + filesize + pad4(filesize);
    if (dataStart + filesize > buf.length) throw new Error(`truncated newc entry ${name}`);
    if (name !== TRAILER) {
      byName.delete(name); // a later archive's entry replaces an earlier one, as the kernel's unpacker does
      byName.set(name, {
        name,
        mode: field(1),
        uid: field(2),
        gid: field(3),
        nlink: field(4),
        mtime: field(5),
        devmajor: field(7),
        devminor: field(8),
        rdevmajor: field(9),
        rdevminor: field(10),
        data: buf.subarray(dataStart, dataStart + filesize),
      });
    }
    off = next;
  }
  return [...byName.values()];
}

/** One newc archive of these entries, with its trailer; inode numbers assigned in order (no hard links). */
export function writeNewc(entries: NewcEntry[]): Buffer {
  const parts: Buffer[] = [];
  const hex = (n: number) => (n >>> 0).toString(16).padStart(8, "0");
  const push = (e: NewcEntry, ino: number) => {
    const name = Buffer.from(`${e.name}\0`, "utf8");
    const fields = [ino, e.mode, e.uid, e.gid, e.nlink, e.mtime, e.data.length, e.devmajor, e.devminor, e.rdevmajor, e.rdevminor, name.length, 0];
    parts.push(Buffer.from(MAGIC + fields.map(hex).join(""), "latin1"), name, Buffer.alloc(pad4(HEADER + name.length)));
    parts.push(e.data, Buffer.alloc(pad4(e.data.length)));
  };
  entries.forEach((e, i) => push(e, i + 1));
  push({ name: TRAILER, mode: 0, uid: 0, gid: 0, nlink: 1, mtime: 0, devmajor: 0, devminor: 0, rdevmajor: 0, rdevminor: 0, data: Buffer.alloc(0) }, 0);
  const out = Buffer.concat(parts);
  return Buffer.concat([out, Buffer.alloc((512 - (out.length % 512)) % 512)]);
}

export const S_IFREG = 0o100000;

/**
 * /init for a LAVA boot: the same mounts as the harness's init, the ready marker, then a login shell on
 * the console (LAVA waits for its prompt and types its test shell into it). No network, no dropbear.
 */
export const LAVA_INIT = `#!/bin/busybox sh
# PID 1 of a LAVA boot (written by warpdrive-harness): LAVA drives the guest over the serial console.
/bin/busybox --install -s
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620 devpts /dev/pts
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
hostname wdh-guest
echo "WDH-READY"
cd /
while :; do setsid cttyhack sh -l; done
`;

/** The harness initramfs as LAVA's ramdisk: merged, /init replaced, gzip-compressed (`compression: gz`). */
export function lavaRamdisk(initramfs: Buffer, init = LAVA_INIT): Buffer {
  const entries = readNewc(initramfs).filter((e) => e.name !== "init");
  const mtime = Math.max(0, ...entries.map((e) => e.mtime));
  entries.push({
    name: "init",
    mode: S_IFREG | 0o755,
    uid: 0,
    gid: 0,
    nlink: 1,
    mtime,
    devmajor: 0,
    devminor: 0,
    rdevmajor: 0,
    rdevminor: 0,
    data: Buffer.from(init),
  });
  return gzipSync(writeNewc(entries), { level: 6 });
}
