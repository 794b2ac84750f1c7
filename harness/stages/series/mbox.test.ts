// Splitting mboxes and picking one series from a thread, on the fixture threads (test/fixtures/mbox,
// made by make-fixtures.ts from real git format-patch output) and on small made-up ones; the mails
// toAmMbox writes then go through real `git am` on the fake tree.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { UsageError } from "../../lib/errors.ts";
import { createExec } from "../../lib/exec.ts";
import { git, gitOut } from "../../lib/git.ts";
import { repoRoot } from "../../lib/paths.ts";
import { decodeHeaderWords, hasDiff, parsePatchSubject, pickSeries, splitMbox, toAmMbox, type MailMessage } from "./mbox.ts";

const fixture = (name: string) => readFileSync(join(repoRoot, "test/fixtures/mbox", name), "utf8");
const thread = () => splitMbox(fixture("thread-v1-v2.mbox"));
const v1Cover = "20260302100000.1000-1-dev@example.org";
const v2Cover = "20260309100000.2000-1-dev@example.org";

function mail(subject: string, extra: Partial<MailMessage> & { diff?: boolean } = {}): MailMessage {
  const id = extra.messageId ?? `${subject.replace(/\W+/g, ".")}@example.org`;
  const body = extra.diff === false ? "no diff here\n" : "---\ndiff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+b\n";
  return { messageId: id, references: [], from: "Dev <dev@example.org>", subject, raw: `Subject: ${subject}\n\n${body}`, ...extra };
}

function expectUsageError(run: () => unknown, message: string): void {
  let thrown: unknown;
  try {
    run();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(UsageError);
  expect((thrown as Error).message).toBe(message);
}

describe("splitMbox", () => {
  it("splits a lore thread into its messages with ids, threading and decoded headers", () => {
    const messages = thread();
    expect(messages).toHaveLength(14);
    expect(messages[0]).toMatchObject({ messageId: v1Cover, subject: "[PATCH 0/3] demo: two queues", from: "Dev One <dev@example.org>", references: [] });
    expect(messages[0]!.inReplyTo).toBeUndefined();
    expect(messages[6]).toMatchObject({ inReplyTo: v2Cover, references: [v1Cover, v2Cover], date: "Mon, 9 Mar 2026 10:01:00 +0000" });
    expect(messages[0]!.raw.startsWith("From: Dev One <dev@example.org>\n")).toBe(true);
    expect(messages[0]!.raw.endsWith("2.39.5\n")).toBe(true); // the blank line between messages is framing
  });

  it("decodes RFC 2047 authors and folded, b-encoded subjects; keeps a UTF-8 body", () => {
    const [m] = splitMbox(fixture("utf8-author.mbox"));
    expect(m!.from).toBe("Jörg Müller <joerg@example.de>");
    expect(m!.subject).toBe("[PATCH v3] demo: credit the queue tuning to Jörg");
    expect(m!.raw).toContain("Łukasz Nowak and 张飞 measured");
  });

  it("normalises CRLF line ends", () => {
    const messages = splitMbox(fixture("crlf.mbox"));
    expect(messages).toHaveLength(1);
    expect(messages[0]!.raw).not.toContain("\r");
    expect(messages[0]!.subject).toBe("[PATCH] demo: say goodbye on remove");
  });

  it("undoes mboxrd >From quoting, one '>' at a time, without splitting the message", () => {
    const messages = splitMbox(fixture("from-quoting.mbox"));
    expect(messages).toHaveLength(1);
    expect(messages[0]!.raw).toContain("\nFrom the datasheet, section 4: two queues after reset.\n");
    expect(messages[0]!.raw).toContain("\n>From a quoted mail that already had a quoted From.\n");
    expect(messages[0]!.raw).toContain("\nFrom 1a2b3c4d Mon Sep 17 00:00:00 2001 is what a pasted mbox line looks like.\n");
  });

  it("takes git format-patch output (unquoted) and a single message without a From_ line", () => {
    const demo = join(repoRoot, "test/fixtures/series/demo-good");
    const two = ["0001-demo-use-two-queues.patch", "0002-demo-log-the-queue-count-at-probe.patch"].map((f) => readFileSync(join(demo, f), "utf8"));
    expect(splitMbox(two.join("")).map((m) => m.subject)).toEqual(["[PATCH 1/2] demo: use two queues", "[PATCH 2/2] demo: log the queue count at probe"]);
    const eml = splitMbox("Message-ID: <one@x>\nSubject: [PATCH] a\nFrom: A <a@x>\n\nFrom here on, a body.\n");
    expect(eml).toHaveLength(1);
    expect(eml[0]).toMatchObject({ messageId: "one@x", subject: "[PATCH] a" });
    expect(splitMbox("not a mail at all\n")).toEqual([]);
  });

  it("names a message that has no Message-ID after its content", () => {
    const [a] = splitMbox("Subject: [PATCH] a\n\nbody\n");
    expect(a!.messageId).toMatch(/^no-message-id-[0-9a-f]{16}$/);
  });
});

describe("decodeHeaderWords", () => {
  it.each([
    ["=?UTF-8?q?Zhangfei_Gao?= <zhangfei.gao@linaro.org>", "Zhangfei Gao <zhangfei.gao@linaro.org>"],
    ["=?utf-8?b?SsO2cmc=?= =?utf-8?b?IE3DvGxsZXI=?=", "Jörg Müller"],
    ["=?iso-8859-1?q?J=F6rg?= M", "Jörg M"],
    ["plain =?x-unknown-charset?q?word?= stays", "plain =?x-unknown-charset?q?word?= stays"],
  ])("%s", (encoded, decoded) => expect(decodeHeaderWords(encoded)).toBe(decoded));
});

describe("parsePatchSubject", () => {
  it.each([
    ["[RFC PATCH v3 04/40] iommu: foo", { prefixes: ["RFC", "PATCH"], version: 3, index: 4, total: 40, title: "iommu: foo", isRfc: true }],
    ["[PATCH] x", { prefixes: ["PATCH"], version: 1, index: 1, total: 1, title: "x", isRfc: false }],
    ["[PATCH 0/7] cover", { version: 1, index: 0, total: 7 }],
    ["[PATCHv2 1/2] x", { prefixes: ["PATCH"], version: 2, index: 1, total: 2 }],
    ["[PATCH net-next v2 3/5] net: y", { prefixes: ["PATCH", "net-next"], version: 2, index: 3, total: 5, title: "net: y" }],
    ["[RFC][PATCH 1/2] z", { prefixes: ["RFC", "PATCH"], index: 1, total: 2, isRfc: true }],
  ])("%s", (subject, expected) => expect(parsePatchSubject(subject)).toMatchObject(expected));

  it.each(["Re: [PATCH 1/2] x", "RE: [PATCH v2 0/3] x", "Aw: [PATCH v2 3/3] x", "Fwd: [PATCH] x", "re : [PATCH] x", "hello", "[GIT PULL] iommu fixes"])(
    "%s is not a patch",
    (subject) => expect(parsePatchSubject(subject)).toBeUndefined(),
  );
});

describe("hasDiff", () => {
  it("sees a diff at the start of a line, not one quoted by a reply", () => {
    const [, , , , review] = thread();
    expect(review!.subject).toBe("Re: [PATCH 2/3] demo: add a queue count helper");
    expect(review!.raw).toContain("\n> diff --git a/drivers/demo/demo-queue.h");
    expect(hasDiff(review!.raw)).toBe(false);
    expect(hasDiff(thread()[2]!.raw)).toBe(true);
    expect(hasDiff("Subject: x\n\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n")).toBe(true);
  });
});

describe("pickSeries", () => {
  it("takes the newest complete version, its cover apart, replies and the diff-less note skipped", () => {
    const picked = pickSeries(thread());
    expect(picked.version).toBe(2);
    expect(picked.total).toBe(3);
    expect(picked.cover?.messageId).toBe(v2Cover);
    expect(picked.patches.map((m) => m.subject)).toEqual([
      "[PATCH v2 1/3] demo: use two queues",
      "[PATCH v2 2/3] demo: add a queue count helper",
      "[PATCH v2 3/3] demo: log the queue count at probe",
    ]);
    expect(picked.versions).toEqual([
      { version: 1, present: [1, 2, 3], total: 3, complete: true },
      { version: 2, present: [1, 2, 3], total: 3, complete: true },
    ]);
  });

  it("prefers the part threaded to the cover over a newer one sent as a reply elsewhere", () => {
    const picked = pickSeries(thread());
    expect(picked.patches[2]!.messageId).toBe("20260309100000.2000-4-dev@example.org");
    expect(picked.notes).toEqual(["v2 3/3: 2 messages claim it; took <20260309100000.2000-4-dev@example.org> (threaded to the cover)"]);
  });

  it("between two parts both threaded to the cover, takes the later-dated one", () => {
    const cover = mail("[PATCH 0/1] c", { messageId: "c@x" });
    const first = mail("[PATCH 1/1] a", { messageId: "a@x", inReplyTo: "c@x", date: "Mon, 2 Mar 2026 10:00:00 +0000" });
    const resent = mail("[PATCH 1/1] a", { messageId: "b@x", inReplyTo: "c@x", date: "Tue, 3 Mar 2026 10:00:00 +0000" });
    expect(pickSeries([cover, resent, first]).patches[0]!.messageId).toBe("b@x");
  });

  it("takes a named version, or the version of a named cover", () => {
    const byVersion = pickSeries(thread(), { version: 1 });
    expect(byVersion.cover?.messageId).toBe(v1Cover);
    expect(byVersion.patches.map((m) => m.messageId)).toEqual([2, 3, 4].map((i) => `20260302100000.1000-${i}-dev@example.org`));
    expect(pickSeries(thread(), { coverMessageId: v1Cover }).version).toBe(1);
    expectUsageError(
      () => pickSeries(thread(), { coverMessageId: "rita-1@example.net" }),
      "message <rita-1@example.net> is not a patch or cover letter of this thread",
    );
  });

  it("refuses a version that is not in the thread", () => {
    expectUsageError(() => pickSeries(thread(), { version: 5 }), "v5 of this series is not in the thread");
  });

  it("passes over an incomplete newer version, and refuses it when asked for", () => {
    const messages = splitMbox(fixture("missing-part.mbox"));
    const picked = pickSeries(messages);
    expect(picked.version).toBe(1);
    expect(picked.cover).toBeUndefined();
    expect(picked.notes).toEqual(["v2 is missing 2/3; took v1"]);
    expectUsageError(() => pickSeries(messages, { version: 2 }), "v2 is missing 2/3");
    expectUsageError(() => pickSeries(messages.filter((m) => /v2/.test(m.subject))), "v2 is missing 2/3");
  });

  it("names every missing part", () => {
    const parts = [0, 1, 2, 4, 6, 7].map((i) => mail(`[PATCH v2 ${i}/7] part ${i}`));
    expectUsageError(() => pickSeries(parts), "v2 is missing 3/7, 5/7");
  });

  it("refuses an mbox with no patch in it", () => {
    expectUsageError(() => pickSeries([mail("Re: [PATCH] x"), mail("[PATCH] only words", { diff: false })]), "no [PATCH] mails in this mbox");
  });

  it("leaves out a part that disagrees with its cover about the count", () => {
    const picked = pickSeries([mail("[PATCH 0/2] c"), mail("[PATCH 1/2] a"), mail("[PATCH 2/2] b"), mail("[PATCH 1/3] stray")]);
    expect(picked.patches.map((m) => m.subject)).toEqual(["[PATCH 1/2] a", "[PATCH 2/2] b"]);
    expect(picked.notes).toEqual(['skipped "[PATCH 1/3] stray": v1 has 2 parts']);
  });
});

describe("toAmMbox through real git am", () => {
  const exec = createExec();
  let tree: string;
  beforeEach(async () => {
    tree = mkdtempSync(join(tmpdir(), "wdh-mbox-"));
    cpSync(join(repoRoot, "test/fixtures/fake-tree"), tree, { recursive: true });
    await git(exec, tree, ["init", "-q", "-b", "base"]);
    await git(exec, tree, ["add", "-A"]);
    await git(exec, tree, ["commit", "-q", "-m", "fake base"]);
  });
  afterEach(() => rmSync(tree, { recursive: true, force: true }));

  async function am(fixtureName: string): Promise<{ author: string; message: string }> {
    const [patch] = pickSeries(splitMbox(fixture(fixtureName))).patches;
    const file = join(tree, "..", `${fixtureName}.patch`);
    writeFileSync(file, toAmMbox(patch!));
    try {
      await git(exec, tree, ["am", "-3", file]);
    } finally {
      rmSync(file, { force: true });
    }
    const [author, ...message] = (await gitOut(exec, tree, ["log", "-1", "--format=%an <%ae>%n%B"])).split("\n");
    return { author: author!, message: message.join("\n") };
  }

  it("keeps a non-ASCII author and body", async () => {
    const r = await am("utf8-author.mbox");
    expect(r.author).toBe("Jörg Müller <joerg@example.de>");
    expect(r.message).toContain("demo: credit the queue tuning to Jörg");
    expect(readFileSync(join(tree, "drivers/demo/demo.c"), "utf8")).toContain("/* Tuned by Jörg Müller; measured by Łukasz Nowak and 张飞. */");
  });

  it("applies a mail that came with CRLF line ends", async () => {
    await am("crlf.mbox");
    const demo = readFileSync(join(tree, "drivers/demo/demo.c"), "utf8");
    expect(demo).toContain('\tpr_info("demo: goodbye\\n");\n');
    expect(demo).not.toContain("\r");
  });

  it("keeps From lines of a body in one commit; only a line git would split at stays quoted", async () => {
    const r = await am("from-quoting.mbox");
    expect(await gitOut(exec, tree, ["rev-list", "--count", "HEAD"])).toBe("2");
    expect(r.message).toContain("\nFrom the datasheet, section 4: two queues after reset.\n>From a quoted mail that already had a quoted From.\n");
    expect(r.message).toContain("\n>From 1a2b3c4d Mon Sep 17 00:00:00 2001 is what a pasted mbox line looks like.\n");
  });
});
