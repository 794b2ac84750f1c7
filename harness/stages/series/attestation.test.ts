// DKIM on a fixture mail signed here with a fresh RSA key (its public key served by an injected resolver),
// and patatt on a fixture mail signed by the real patatt (test/fixtures/mbox/make-fixtures.ts) with an
// ed25519, an openssh and an openpgp key whose public halves sit in a patatt keyring beside it.
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dkimSign } from "mailauth/lib/dkim/sign.js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createExec } from "../../lib/exec.ts";
import { repoRoot } from "../../lib/paths.ts";
import { verifyAttestations, type TxtResolver } from "./attestation.ts";
import { splitMbox } from "./mbox.ts";

const fixtures = join(repoRoot, "test/fixtures/mbox");
const keyring = join(fixtures, "patatt-keyring");
const [ed25519Mail, opensshMail, openpgpMail] = splitMbox(readFileSync(join(fixtures, "patatt-signed.mbox"), "utf8")).map((m) => m.raw);
const patch = splitMbox(readFileSync(join(fixtures, "thread-v1-v2.mbox"), "utf8"))[7]!.raw; // [PATCH v2 2/3]

describe("DKIM", () => {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const record = `v=DKIM1; k=rsa; p=${publicKey.export({ type: "spki", format: "der" }).toString("base64")}`;
  const keyName = "fixture._domainkey.example.org";
  const asked: string[] = [];
  const resolver: TxtResolver = async (name) => {
    asked.push(name);
    if (name === keyName) return [[record]];
    throw Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: "ENOTFOUND" });
  };
  let signed: string;

  const key = { signingDomain: "example.org", selector: "fixture", privateKey: privateKey.export({ type: "pkcs8", format: "pem" }) };
  // mailauth 4 signs with what signatureData lists; its type declarations also want the fields at the top.
  // signTime given: without it mailauth takes t= from the clock twice (Math.round(Date.now() / 1000) when
  // it hashes the header, and again when it writes it), so a signing that straddles a half second carries
  // another t= than the one it signed: "bad signature", about 1 run in 30 on a loaded machine.
  const sign = async (mail: string) => {
    const r = await dkimSign(Buffer.from(mail.replace(/\n/g, "\r\n")), {
      ...key,
      signatureData: [key],
      headerList: ["from", "subject", "date", "message-id", "to", "cc"],
      signTime: new Date(),
    });
    expect(r.errors).toEqual([]);
    return r;
  };

  beforeAll(async () => {
    const r = await sign(patch);
    expect(r.signatures).toMatch(/^DKIM-Signature: .*d=example\.org/);
    signed = r.signatures.replace(/\r\n/g, "\n") + patch;
  });

  it("a signing that straddles a second boundary still verifies (the clock read once: signTime)", async () => {
    let now = 1_796_145_337_400;
    const clock = vi.spyOn(Date, "now").mockImplementation(() => (now += 1000)); // every read of the clock 1 s later
    try {
      const r = await sign(patch);
      expect(await verifyAttestations(r.signatures.replace(/\r\n/g, "\n") + patch, { dnsResolver: resolver })).toMatchObject([
        { kind: "dkim", status: "pass" },
      ]);
    } finally {
      clock.mockRestore();
    }
  });

  it("a mail as signed passes, its key asked for by selector and domain", async () => {
    expect(await verifyAttestations(signed, { dnsResolver: resolver })).toEqual([
      { kind: "dkim", status: "pass", identity: "example.org", detail: "DKIM d=example.org s=fixture: signature verified" },
    ]);
    expect(asked).toContain(keyName);
  });

  it("one byte of the body changed fails", async () => {
    const changed = signed.replace("return n > 0 ? n : 1;", "return n > 0 ? n : 2;");
    expect(changed).not.toBe(signed);
    expect(await verifyAttestations(changed, { dnsResolver: resolver })).toEqual([
      {
        kind: "dkim",
        status: "fail",
        identity: "example.org",
        detail: "DKIM d=example.org s=fixture: the body changed after signing (body hash does not match)",
      },
    ]);
  });

  it("a signed header changed fails", async () => {
    const changed = signed.replace("Subject: [PATCH v2 2/3]", "Subject: [PATCH v3 2/3]");
    expect(await verifyAttestations(changed, { dnsResolver: resolver })).toMatchObject([{ kind: "dkim", status: "fail" }]);
  });

  it("no key in DNS, a lookup that fails, or offline: unverifiable, saying why", async () => {
    const nowhere = signed.replace("d=example.org", "d=example.net");
    expect(await verifyAttestations(nowhere, { dnsResolver: resolver })).toEqual([
      {
        kind: "dkim",
        status: "unverifiable",
        identity: "example.net",
        detail: "DKIM d=example.net s=fixture: no key at fixture._domainkey.example.net (removed or rotated since the mail was sent?)",
      },
    ]);
    const timingOut: TxtResolver = async () => {
      throw Object.assign(new Error("queryTxt ETIMEOUT"), { code: "ETIMEOUT" });
    };
    expect(await verifyAttestations(signed, { dnsResolver: timingOut })).toEqual([
      { kind: "dkim", status: "unverifiable", identity: "example.org", detail: "DKIM d=example.org s=fixture: key lookup failed (DNS failure: ETIMEOUT)" },
    ]);
    expect(await verifyAttestations(signed, { offline: true })).toEqual([
      { kind: "dkim", status: "unverifiable", identity: "example.org", detail: "DKIM d=example.org s=fixture: offline, the key was not looked up" },
    ]);
  });

  it("a mail without signatures has no attestations", async () => {
    expect(await verifyAttestations(patch, { dnsResolver: resolver, keyring })).toEqual([]);
  });
});

describe("patatt", () => {
  const exec = createExec();
  let hasGpg = false;
  let empty: string;
  beforeAll(async () => {
    hasGpg = (await exec("gpg", ["--version"], { allowFailure: true }).catch(() => undefined))?.exitCode === 0;
    empty = mkdtempSync(join(tmpdir(), "wdh-keyring-"));
  });
  afterAll(() => rmSync(empty, { recursive: true, force: true }));

  it("the fixture holds one mail per key type, signed by patatt", () => {
    expect([ed25519Mail, opensshMail, openpgpMail].map((m) => /a=(\w+)-sha256/.exec(m!)?.[1])).toEqual(["ed25519", "openssh", "openpgp"]);
  });

  it("an ed25519 signature verifies with the keyring's key", async () => {
    expect(await verifyAttestations(ed25519Mail!, { keyring })).toEqual([
      {
        kind: "patatt",
        status: "pass",
        identity: "dev@example.org",
        detail: `patatt i=dev@example.org (ed25519): signature verified with ${join(keyring, "ed25519/example.org/dev/default")}`,
      },
    ]);
  });

  it("an openssh signature verifies with ssh-keygen", async () => {
    expect(await verifyAttestations(opensshMail!, { keyring })).toMatchObject([{ kind: "patatt", status: "pass", identity: "dev@example.org" }]);
  });

  it("an openpgp signature verifies with gpg (unverifiable, saying so, where gpg is not installed)", async () => {
    const [a] = await verifyAttestations(openpgpMail!, { keyring });
    if (hasGpg) expect(a).toMatchObject({ status: "pass", detail: expect.stringContaining("(openpgp): signature verified") });
    else expect(a).toMatchObject({ status: "unverifiable", detail: expect.stringContaining("gpg: command not found") });
  });

  it.each([
    ["ed25519", 0],
    ["openssh", 1],
    ["openpgp", 2],
  ])("%s: a changed body fails", async (_, i) => {
    const mail = [ed25519Mail, opensshMail, openpgpMail][i]!;
    const changed = mail.replace('pr_info("demo: goodbye\\n");', 'pr_info("demo: farewell\\n");');
    expect(changed).not.toBe(mail);
    expect(await verifyAttestations(changed, { keyring })).toEqual([
      {
        kind: "patatt",
        status: "fail",
        identity: "dev@example.org",
        detail: "patatt i=dev@example.org: the body changed after signing (body hash does not match)",
      },
    ]);
  });

  it("a changed subject fails the signature itself", async () => {
    const retitled = (m: string) => m.replace("Subject: [PATCH] demo: say goodbye", "Subject: [PATCH] demo: say hello");
    expect(await verifyAttestations(retitled(ed25519Mail!), { keyring })).toMatchObject([
      { status: "fail", detail: "patatt i=dev@example.org (ed25519): the signed headers changed after signing" },
    ]);
    expect(await verifyAttestations(retitled(opensshMail!), { keyring })).toMatchObject([
      { status: "fail", detail: expect.stringMatching(/^patatt i=dev@example.org \(openssh\): bad signature/) },
    ]);
    if (hasGpg) expect(await verifyAttestations(retitled(openpgpMail!), { keyring })).toMatchObject([{ status: "fail" }]);
  });

  it("headers patatt does not sign may change; CRLF line ends change nothing", async () => {
    const resent = ed25519Mail!.replace("To: linux-demo@vger.example.org", "To: someone-else@example.com").replace(/\n/g, "\r\n");
    expect(await verifyAttestations(resent, { keyring })).toMatchObject([{ status: "pass" }]);
  });

  it("without a keyring, or without the key in it: unverifiable, saying why", async () => {
    expect(await verifyAttestations(ed25519Mail!)).toEqual([
      {
        kind: "patatt",
        status: "unverifiable",
        identity: "dev@example.org",
        detail: "patatt signature present (i=dev@example.org, a=ed25519-sha256, s=default, not verified: no patatt keyring given)",
      },
    ]);
    expect(await verifyAttestations(ed25519Mail!, { keyring: empty })).toEqual([
      {
        kind: "patatt",
        status: "unverifiable",
        identity: "dev@example.org",
        detail: `patatt signature present (i=dev@example.org, a=ed25519-sha256, s=default, not verified: no key at ${join(empty, "ed25519/example.org/dev/default")})`,
      },
    ]);
  });
});
