// SMMUv3 events as arm-smmu-v3 prints them, decoded into one record per event. Two formats:
// - 6.12 (arm_smmu_evtq_thread): "event 0x%02x received:" and the four event words, "\t0x%016llx" each;
// - 7.2 (arm_smmu_dump_event): the same raw dump, then a decoded line, "event: %s client: %s sid: %#x
//   ssid: %#x" with "iova: %#llx ipa: %#llx" (translation, address size, access and permission faults)
//   or "fetch_addr: %#llx" (STE, CD and VMS fetch faults), and for the faults a second line,
//   "%s %s %s %s \"%s\"%s%s stag: %#x" (priv/unpriv, inst/data, read/write, s1/s2, the fault class).
// Both print at most DEFAULT_RATELIMIT_BURST (10) events per DEFAULT_RATELIMIT_INTERVAL (5 s); lib/ratelimit.c
// says how many it dropped ("<function>: N callbacks suppressed") only when the next event after the
// window is printed, so a burst of ten may hide more that nobody ever hears of.
import { SMMU_EVENT_NAMES } from "../../lib/smmu-events.ts";
export { SMMU_EVENT_NAMES };

export interface SmmuEvent {
  /** The SMMU that reported it, e.g. "9050000.smmuv3". */
  smmu: string;
  eventId: number;
  /** Architecture name of the event, e.g. "F_TRANSLATION" (the kernel's own name when it printed one). */
  eventName?: string;
  streamId: number;
  /** SubstreamID valid: the access carried a PASID. */
  ssv: boolean;
  /** Present when the event carries a SubstreamID (PASID). */
  substreamId?: number;
  /** The device the kernel found for the StreamID (7.2's "client:"); absent when the kernel did not print one. */
  client?: string;
  /**
   * The PCI device whose requester ID the StreamID is, "0000:BB:DD.F": on QEMU virt the PCI host
   * bridge's iommu-map is the identity, so StreamID = RID. Derived, not printed by the kernel.
   */
  pciDevice?: string;
  /** Input address (word 2) of translation, address size, access and permission faults. */
  address?: string;
  /** Intermediate physical address (word 3) of the same faults, when stage 2 was involved. */
  ipa?: string;
  /** Address of the STE, CD or VMS that could not be fetched. */
  fetchAddress?: string;
  /** The faulting access, for translation, address size, access and permission faults. */
  access?: "read" | "write";
  privileged?: boolean;
  instruction?: boolean;
  stage?: 1 | 2;
  /** What caused the fault: "CD fetch", "Stage 1 translation table fetch", "Input address caused fault". */
  faultClass?: string;
  stall?: boolean;
  /** The event record as printed, "0x%016llx" each. */
  words: string[];
  /** Which printing it came from: 6.12's raw words only, or 7.2's raw words and decoded lines. */
  format: "raw" | "decoded";
}

// SMMUv3 architecture, event record types (IHI 0070, "Event records").
/** Events whose word 1 describes the access and word 2 is its input address (and word 3 the IPA). */
const ADDRESS_EVENTS = new Set([0x10, 0x11, 0x12, 0x13]);
/** Events whose word 3 is the address of what could not be fetched. */
const FETCH_EVENTS = new Set([0x03, 0x09, 0x25]);
/** arm-smmu-v3.c: event_class_str[], indexed by EVTQ_1_CLASS. */
const FAULT_CLASSES = ["CD fetch", "Stage 1 translation table fetch", "Input address caused fault", "Reserved"];

/** DEFAULT_RATELIMIT_BURST events per DEFAULT_RATELIMIT_INTERVAL (include/linux/ratelimit_types.h). */
export const SMMU_PRINT_BURST = 10;
export const SMMU_PRINT_INTERVAL_S = 5;

const DEVICE_LINE = /^arm-smmu-v3 (\S+): (.*)$/;
const HEADER = /^event 0x([0-9a-f]{2}) received:?/;
const WORD = /^\s*(0x[0-9a-f]{16})\s*$/;
const DECODED =
  /^event: (\S+) client: (.+?) sid: (0x[0-9a-f]+|0) ssid: (0x[0-9a-f]+|0)(?: iova: (0x[0-9a-f]+|0) ipa: (0x[0-9a-f]+|0)| fetch_addr: (0x[0-9a-f]+|0))?\s*$/;
const ACCESS = /^(priv|unpriv) (inst|data) (read|write) (s1|s2) "([^"]*)"(?: ttd_(?:read|write))?( stall)? stag: (0x[0-9a-f]+|0)\s*$/;
/** 7.2 prints "(unassigned sid)" when no device owns the StreamID. */
const NO_CLIENT = "(unassigned sid)";

const hex = (n: bigint | number) => `0x${n.toString(16)}`;
const bit = (w: bigint, n: number) => ((w >> BigInt(n)) & 1n) === 1n;

/**
 * Decode one event from its lines: the "event 0x.. received:" header, the four words and, on 7.2,
 * the decoded lines. `texts` are console messages with the printk timestamp already stripped.
 */
export function parseSmmuEvent(texts: string[]): SmmuEvent | undefined {
  let smmu: string | undefined;
  let headerId: number | undefined;
  const words: string[] = [];
  let decoded: RegExpExecArray | null = null;
  let access: RegExpExecArray | null = null;
  for (const text of texts) {
    const d = DEVICE_LINE.exec(text);
    if (!d) continue;
    smmu ??= d[1]!;
    const msg = d[2]!;
    const h = HEADER.exec(msg);
    if (h) headerId ??= parseInt(h[1]!, 16);
    const w = WORD.exec(msg);
    if (w) words.push(w[1]!);
    decoded ??= DECODED.exec(msg);
    access ??= ACCESS.exec(msg);
  }
  if (smmu === undefined || (headerId === undefined && words.length === 0 && !decoded)) return undefined;

  const w0 = words[0] !== undefined ? BigInt(words[0]) : undefined;
  const w1 = words[1] !== undefined ? BigInt(words[1]) : undefined;
  const eventId = w0 !== undefined ? Number(w0 & 0xffn) : (headerId ?? 0);
  const event: SmmuEvent = { smmu, eventId, streamId: 0, ssv: false, words, format: decoded ? "decoded" : "raw" };
  const name = SMMU_EVENT_NAMES[eventId];
  if (name) event.eventName = name;

  if (w0 !== undefined) {
    event.streamId = Number(w0 >> 32n);
    event.ssv = bit(w0, 11);
    if (event.ssv) event.substreamId = Number((w0 >> 12n) & 0xfffffn);
  }
  if (ADDRESS_EVENTS.has(eventId)) {
    if (words[2]) event.address = hex(BigInt(words[2]));
    if (words[3]) {
      const ipa = BigInt(words[3]) & 0x000ffffffffff000n;
      if (ipa) event.ipa = hex(ipa);
    }
    if (w1 !== undefined) {
      event.access = bit(w1, 35) ? "read" : "write";
      event.instruction = bit(w1, 34);
      event.privileged = bit(w1, 33);
      event.stage = bit(w1, 39) ? 2 : 1;
      event.faultClass = FAULT_CLASSES[Number((w1 >> 40n) & 3n)];
      event.stall = bit(w1, 31);
    }
  }
  if (FETCH_EVENTS.has(eventId) && words[3]) event.fetchAddress = hex(BigInt(words[3]) & 0x000ffffffffffff8n);

  // The kernel's decoding, where it printed one, has the last word: it also knows the client.
  if (decoded) {
    if (decoded[1] !== "UNKNOWN") event.eventName = decoded[1]!;
    if (decoded[2] !== NO_CLIENT) event.client = decoded[2]!;
    event.streamId = Number(decoded[3]);
    const ssid = Number(decoded[4]);
    if (w0 === undefined) event.ssv = ssid !== 0; // IOMMU_NO_PASID (0) is printed when SSV is clear
    if (event.ssv || ssid !== 0) event.substreamId = ssid;
    if (decoded[5] !== undefined) event.address = hex(BigInt(decoded[5]));
    if (decoded[6] !== undefined && BigInt(decoded[6]) !== 0n) event.ipa = hex(BigInt(decoded[6]));
    if (decoded[7] !== undefined) event.fetchAddress = hex(BigInt(decoded[7]));
  }
  if (access) {
    event.privileged = access[1] === "priv";
    event.instruction = access[2] === "inst";
    event.access = access[3] as "read" | "write";
    event.stage = access[4] === "s2" ? 2 : 1;
    event.faultClass = access[5]!;
    event.stall = access[6] !== undefined;
  }
  if (w0 !== undefined || decoded) event.pciDevice = pciDeviceOf(event.streamId);
  return event;
}

/** "0000:BB:DD.F" of a PCI requester ID (segment 0). */
export function pciDeviceOf(rid: number): string {
  const p = (n: number, w: number) => n.toString(16).padStart(w, "0");
  return `${p((rid >>> 16) & 0xffff, 4)}:${p((rid >>> 8) & 0xff, 2)}:${p((rid >>> 3) & 0x1f, 2)}.${rid & 7}`;
}

/**
 * The device an event is about: the client the kernel named (7.2, "(unassigned sid)" when no device
 * owns the StreamID), or, where the kernel names none (6.12), the PCI device its StreamID is.
 */
export function clientOf(e: SmmuEvent): { name: string; derived: boolean } | undefined {
  if (e.format === "decoded") return { name: e.client ?? NO_CLIENT, derived: false };
  return e.pciDevice ? { name: e.pciDevice, derived: true } : undefined;
}

/**
 * One line naming the event decoded, for verdicts and reports:
 * "F_TRANSLATION client 0000:00:03.0 (from sid) sid 0x18 ssid none iova 0x10000 unpriv data write".
 */
export function describeSmmuEvent(e: SmmuEvent): string {
  const parts = [e.eventName ?? `event 0x${e.eventId.toString(16).padStart(2, "0")}`];
  const client = clientOf(e);
  parts.push(`client ${client ? `${client.name}${client.derived ? " (from sid)" : ""}` : "unknown"}`);
  parts.push(`sid ${hex(e.streamId)}`, `ssid ${e.substreamId !== undefined ? hex(e.substreamId) : "none"}`);
  if (e.address) parts.push(`iova ${e.address}`);
  if (e.ipa) parts.push(`ipa ${e.ipa}`);
  if (e.fetchAddress) parts.push(`fetch_addr ${e.fetchAddress}`);
  if (e.access) parts.push(`${e.privileged ? "priv" : "unpriv"} ${e.instruction ? "inst" : "data"} ${e.access}${e.stage === 2 ? " s2" : ""}`);
  return parts.join(" ");
}

/** "arm_smmu_evtq_thread: 6 callbacks suppressed" (6.12) or "arm_smmu_dump_event: ..." (7.2). */
export const SMMU_SUPPRESSED = /^(arm_smmu_\w+): (\d+) callbacks suppressed/;

/**
 * Where the rate limit may have dropped events nobody was told about: a window of 5 s in which the
 * kernel printed its whole burst of 10. Returns the printk time of each such window's last printed event.
 * `times` are the printk times of the printed events, in order. The window opens at the first event
 * after the previous one closed, as ___ratelimit() does.
 */
export function saturatedWindows(times: readonly number[]): number[] {
  const saturated: number[] = [];
  let begin: number | undefined;
  let count = 0;
  for (const t of times) {
    if (begin === undefined || t > begin + SMMU_PRINT_INTERVAL_S) {
      begin = t;
      count = 0;
    }
    count++;
    if (count === SMMU_PRINT_BURST) saturated.push(t);
  }
  return saturated;
}
