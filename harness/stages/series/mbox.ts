// Mail as kernel developers keep it: an mbox of a thread (lore's t.mbox.gz, a mail client's export, git
// format-patch output) split into messages, and one [PATCH vN m/n] series picked from it, cover letter
// and review replies kept apart. Pure functions over text; fetching and verifying live beside this.
import { UsageError } from "../../lib/errors.ts";
import { sha256 } from "../../lib/paths.ts";

export interface MailMessage {
  /** Without the angle brackets. */
  messageId: string;
  inReplyTo?: string;
  references: string[];
  /** RFC 2047 decoded: "Zhangfei Gao <zhangfei.gao@linaro.org>". */
  from: string;
  /** RFC 2047 decoded, folded lines joined. */
  subject: string;
  date?: string;
  /** The whole message as it came: LF line ends, mbox ">From " quoting undone, no From_ line. */
  raw: string;
}

// A From_ separator opens the file or follows a blank line, and a header line follows it. Requiring both
// keeps an unquoted "From " line in a body (git format-patch does not quote) from splitting a message.
const headerLine = /^[\x21-\x39\x3b-\x7e]+:/;

export function splitMbox(text: string): MailMessage[] {
  const lines = text.replace(/\r\n/g, "\n").split("\n");
  const starts: number[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.startsWith("From ") && (i === 0 || lines[i - 1] === "") && headerLine.test(lines[i + 1] ?? "")) starts.push(i);
  }
  if (starts[0] !== 0) {
    // A single message saved without a From_ line (a .eml, a mail client's "save as").
    return headerLine.test(lines[0] ?? "") ? [parseMessage(lines.join("\n"))] : [];
  }
  return starts.map((start, k) => {
    const body = lines.slice(start + 1, starts[k + 1] ?? lines.length);
    // mboxrd: ">From ", ">>From "... lose one '>' (public-inbox writes mboxrd).
    return parseMessage(body.map((l) => (/^>+From /.test(l) ? l.slice(1) : l)).join("\n"));
  });
}

function parseMessage(text: string): MailMessage {
  // The blank line that separates messages in an mbox is framing, not body.
  const raw = `${text.replace(/\n+$/, "")}\n`;
  const end = raw.indexOf("\n\n");
  const headers = parseHeaders(end < 0 ? raw : raw.slice(0, end));
  const ids = (name: string) => [...(headers.get(name)?.join(" ") ?? "").matchAll(/<([^<>\s]+)>/g)].map((m) => m[1]!);
  // A message without a Message-ID still needs a stable name for provenance and picking.
  const messageId = ids("message-id")[0] ?? `no-message-id-${sha256(raw).slice(0, 16)}`;
  return {
    messageId,
    inReplyTo: ids("in-reply-to")[0],
    references: ids("references"),
    from: decodeHeaderWords(headers.get("from")?.[0] ?? ""),
    subject: decodeHeaderWords(headers.get("subject")?.[0] ?? ""),
    date: headers.get("date")?.[0],
    raw,
  };
}

/** Header values by lower-case name, folded lines joined, in order of appearance. */
export function parseHeaders(block: string): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  let name: string | undefined;
  let value = "";
  const flush = () => {
    if (name) headers.set(name, [...(headers.get(name) ?? []), value.trim()]);
  };
  for (const line of block.split("\n")) {
    if (/^[ \t]/.test(line) && name) {
      value += ` ${line.trim()}`;
      continue;
    }
    flush();
    const colon = line.indexOf(":");
    name = colon > 0 ? line.slice(0, colon).trim().toLowerCase() : undefined;
    value = colon > 0 ? line.slice(colon + 1) : "";
  }
  flush();
  return headers;
}

/** RFC 2047: =?charset?Q?...?= and =?charset?B?...?=; whitespace between two encoded words is dropped. */
export function decodeHeaderWords(value: string): string {
  const word = /=\?([^?\s]+)\?([QqBb])\?([^?\s]*)\?=/g;
  return value
    .replace(/(=\?[^?\s]+\?[QqBb]\?[^?\s]*\?=)\s+(?==\?[^?\s]+\?[QqBb]\?[^?\s]*\?=)/g, "$1")
    .replace(word, (whole, charset: string, encoding: string, text: string) => {
      const bytes =
        encoding.toUpperCase() === "B"
          ? Buffer.from(text, "base64")
          : Buffer.from(
              text.replace(/_/g, " ").replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))),
              "latin1",
            );
      try {
        // RFC 2231 allows a language after '*': "utf-8*en".
        return new TextDecoder(charset.replace(/\*.*$/, "")).decode(bytes);
      } catch {
        return whole; // a charset this Node does not know: leave the word as it was
      }
    });
}

export interface PatchSubject {
  /** The bracket's words other than vN and m/n: ["RFC", "PATCH"], ["PATCH", "net-next"]. */
  prefixes: string[];
  version: number;
  /** 0 for a cover letter. */
  index: number;
  total: number;
  title: string;
  isRfc: boolean;
}

const replyPrefix = /^\s*(re|aw|sv|antw|fwd?)\s*(\[\d+\])?\s*:/i;

/** "[RFC PATCH v3 04/40] iommu: foo" -> v3, 4 of 40. undefined for replies and subjects that are not patches. */
export function parsePatchSubject(subject: string): PatchSubject | undefined {
  if (replyPrefix.test(subject)) return undefined;
  const m = /^\s*((?:\[[^\]]*\]\s*)+)(.*)$/.exec(subject);
  if (!m) return undefined;
  const words = m[1]!
    .replace(/[[\]]/g, " ")
    .split(/[\s,]+/)
    .filter(Boolean);
  if (!words.some((w) => /^(PATCH|RFC)(v\d+)?$/i.test(w))) return undefined;
  const prefixes: string[] = [];
  let version = 1;
  let index = 1;
  let total = 1;
  for (const w of words) {
    const v = /^(?:PATCH-?)?v(\d+)$/i.exec(w);
    const n = /^(\d+)\/(\d+)$/.exec(w);
    if (v) {
      version = Number(v[1]);
      if (/^PATCH/i.test(w)) prefixes.push("PATCH"); // "PATCHv2" is "PATCH v2"
    } else if (n) {
      index = Number(n[1]);
      total = Number(n[2]);
    } else prefixes.push(w);
  }
  return { prefixes, version, index, total, title: m[2]!.trim(), isRfc: prefixes.some((p) => /^RFC$/i.test(p)) };
}

/** A diff at the start of a line: a reply quotes one as "> diff --git", so it is not taken for a patch. */
export function hasDiff(raw: string): boolean {
  const body = raw.slice(raw.indexOf("\n\n") + 2);
  return /^diff --git /m.test(body) || /^--- \S.*\n\+\+\+ \S.*\n@@ /m.test(body);
}

export interface PickedSeries {
  version: number;
  total: number;
  cover?: MailMessage;
  /** In order, 1/n first. */
  patches: MailMessage[];
  /** Every version seen in the thread, for the report. */
  versions: { version: number; present: number[]; total: number; complete: boolean }[];
  /** Choices made on the way (duplicates, an incomplete newer version passed over), for the report. */
  notes: string[];
}

interface Candidate {
  message: MailMessage;
  subject: PatchSubject;
  order: number;
}

interface VersionGroup {
  version: number;
  total: number;
  covers: Candidate[];
  parts: Map<number, Candidate[]>;
}

/**
 * One series from a thread. Replies ("Re:", "Aw:"...) and messages without a diff other than a 0/n cover are
 * skipped. The newest complete version is taken unless `version` is given; a requested (or the only) version
 * with parts missing is a UsageError naming them. When two messages claim the same part of one version, the
 * one threaded to that version's cover (In-Reply-To, else References) wins, then the later Date, then the
 * later in the mbox: a resent part comes after the one it replaces. `coverMessageId` (any message of the
 * series, usually the cover) chooses the version when `version` is not given, and its cover wins ties.
 */
export function pickSeries(messages: MailMessage[], options: { version?: number; coverMessageId?: string } = {}): PickedSeries {
  const notes: string[] = [];
  const groups = groupByVersion(messages, notes);
  if (groups.size === 0) throw new UsageError("no [PATCH] mails in this mbox", [`${messages.length} messages, none a patch with a diff or a 0/n cover letter`]);

  let wanted = options.version;
  let namedCover: MailMessage | undefined;
  if (options.coverMessageId !== undefined) {
    const named = messages.find((m) => m.messageId === options.coverMessageId);
    const subject = named && parsePatchSubject(named.subject);
    if (!named || !subject) throw new UsageError(`message <${options.coverMessageId}> is not a patch or cover letter of this thread`);
    wanted ??= subject.version;
    if (subject.index === 0) namedCover = named;
  }

  const versions = [...groups.values()]
    .sort((a, b) => a.version - b.version)
    .map((g) => {
      const present = [...g.parts.keys()].filter((i) => i >= 1 && i <= g.total).sort((a, b) => a - b);
      return { version: g.version, present, total: g.total, complete: g.total > 0 && present.length === g.total };
    });
  const missingText = (v: (typeof versions)[number]) => {
    const missing = Array.from({ length: v.total }, (_, i) => i + 1).filter((i) => !v.present.includes(i));
    return `v${v.version} is missing ${missing.map((i) => `${i}/${v.total}`).join(", ")}`;
  };
  const seen = `versions in the thread: ${versions.map((v) => `v${v.version} (${v.present.length}/${v.total})`).join(", ")}`;

  let chosen: (typeof versions)[number] | undefined;
  if (wanted !== undefined) {
    chosen = versions.find((v) => v.version === wanted);
    if (!chosen) throw new UsageError(`v${wanted} of this series is not in the thread`, [seen]);
    if (!chosen.complete) throw new UsageError(missingText(chosen), [seen]);
  } else {
    chosen = [...versions].reverse().find((v) => v.complete);
    if (!chosen) throw new UsageError(versions.map(missingText).join("; "), [seen, "take a complete version from elsewhere or name one that is complete"]);
    for (const v of versions) if (v.version > chosen.version) notes.push(`${missingText(v)}; took v${chosen.version}`);
  }

  const group = groups.get(chosen.version)!;
  const cover = namedCover && group.covers.some((c) => c.message === namedCover) ? namedCover : group.covers.map((c) => c.message).at(-1);
  const patches = chosen.present.map((i) => bestOf(group.parts.get(i)!, cover, `v${chosen.version} ${i}/${chosen.total}`, notes));
  return { version: chosen.version, total: chosen.total, cover, patches, versions, notes };
}

function groupByVersion(messages: MailMessage[], notes: string[]): Map<number, VersionGroup> {
  const groups = new Map<number, VersionGroup>();
  const candidates: Candidate[] = [];
  messages.forEach((message, order) => {
    const subject = parsePatchSubject(message.subject);
    if (!subject) return;
    if (subject.index !== 0 && !hasDiff(message.raw)) return; // a reply that kept the subject, a note
    candidates.push({ message, subject, order });
  });
  for (const c of candidates) {
    const g: VersionGroup = groups.get(c.subject.version) ?? { version: c.subject.version, total: 0, covers: [], parts: new Map() };
    groups.set(c.subject.version, g);
    if (c.subject.index === 0) g.covers.push(c);
  }
  for (const g of groups.values()) {
    // The cover says how many parts there are; without one, the count most patches give.
    const totals = (g.covers.length ? g.covers : candidates.filter((c) => c.subject.version === g.version)).map((c) => c.subject.total);
    g.total = mostCommon(totals);
  }
  for (const c of candidates) {
    const g = groups.get(c.subject.version)!;
    if (c.subject.index === 0) continue;
    if (c.subject.total !== g.total) {
      notes.push(`skipped "${c.message.subject}": v${g.version} has ${g.total} parts`);
      continue;
    }
    g.parts.set(c.subject.index, [...(g.parts.get(c.subject.index) ?? []), c]);
  }
  return groups;
}

function mostCommon(values: number[]): number {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || b[0] - a[0])[0]![0];
}

function bestOf(claims: Candidate[], cover: MailMessage | undefined, part: string, notes: string[]): MailMessage {
  if (claims.length === 1) return claims[0]!.message;
  const threaded = (m: MailMessage) => cover !== undefined && (m.inReplyTo ?? m.references.at(-1)) === cover.messageId;
  const time = (m: MailMessage) => (m.date ? Date.parse(m.date) : NaN) || 0;
  const ranked = [...claims].sort(
    (a, b) => Number(threaded(b.message)) - Number(threaded(a.message)) || time(b.message) - time(a.message) || b.order - a.order,
  );
  const best = ranked[0]!.message;
  notes.push(`${part}: ${claims.length} messages claim it; took <${best.messageId}>${threaded(best) ? " (threaded to the cover)" : ""}`);
  return best;
}

/** git mailsplit's is_from_line(): "From ", then at the last colon "d?dd:dd" and a year after it. */
function mailsplitTakesForFromLine(line: string): boolean {
  if (line.length + 1 < 20 || !line.startsWith("From ")) return false;
  const colon = line.lastIndexOf(":", line.length - 2); // mailsplit never looks at the last character
  if (colon < 5) return false;
  const digit = (i: number) => /[0-9]/.test(line[i] ?? "");
  if (![colon - 4, colon - 2, colon - 1, colon + 1, colon + 2].every(digit)) return false;
  return (Number.parseInt(line.slice(colon + 3), 10) || 0) > 90;
}

/**
 * The message as an mbox `git am` takes: a From_ line, headers, body, LF. Plain `git am` does not undo
 * mboxrd quoting, so only body lines its mailsplit would take for a new message are quoted (they reach
 * the commit message as ">From ...", as they would after git send-email and git am).
 */
export function toAmMbox(message: MailMessage): string {
  const lines = message.raw.split("\n").map((l) => (mailsplitTakesForFromLine(l) ? `>${l}` : l));
  return `From mboxrd@z Thu Jan  1 00:00:00 1970\n${lines.join("\n")}`;
}
