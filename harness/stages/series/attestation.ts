// Who vouches for a patch mail: its DKIM signatures (the sending domain, key in DNS) and its patatt
// X-Developer-Signature headers (the developer, key in a keyring). Each signature is verified and reported
// as pass, fail (the mail is not what was signed) or unverifiable (no key to check it with, and why).
// DKIM is left to mailauth. patatt is done here as patatt itself does it: the body and From/Subject as
// `git mailinfo` reads them, DKIM "relaxed" header canonicalisation, sha256, then ed25519 (node:crypto),
// openssh (ssh-keygen -Y verify) or openpgp (gpg --verify) over that digest.
import { createHash, createPublicKey, verify } from "node:crypto";
import { Resolver } from "node:dns/promises";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dkimVerify } from "mailauth/lib/dkim/verify.js";
import { ToolMissingError } from "../../lib/errors.ts";
import { createExec, type Exec } from "../../lib/exec.ts";
import { decodeHeaderWords } from "./mbox.ts";

export type AttestationStatus = "pass" | "fail" | "none" | "unverifiable";

export interface Attestation {
  kind: "dkim" | "patatt";
  status: AttestationStatus;
  /** DKIM: the signing domain (d=); patatt: the developer (i=). */
  identity?: string;
  detail: string;
}

export type TxtResolver = (name: string, type: "TXT") => Promise<string[][]>;

export interface AttestationOptions {
  /** DKIM key lookups; default DNS, with a short timeout. */
  dnsResolver?: TxtResolver;
  /** Look nothing up: DKIM signatures are reported unverifiable. */
  offline?: boolean;
  /** A patatt keyring folder: <keyring>/<ed25519|openssh|openpgp>/<domain>/<local>/<selector>. */
  keyring?: string;
  exec?: Exec;
}

/** Every DKIM-Signature and X-Developer-Signature of one raw message, each verified. None: []. */
export async function verifyAttestations(raw: string, options: AttestationOptions = {}): Promise<Attestation[]> {
  const headers = headerItems(raw.replace(/\r\n/g, "\n"));
  const results: Attestation[] = [];
  if (headers?.some((h) => /^dkim-signature$/i.test(h.name))) results.push(...(await verifyDkim(raw, options)));
  for (const item of headers ?? []) {
    if (item.name.toLowerCase() === "x-developer-signature") results.push(await verifyPatatt(raw, headers!, item.value, options));
  }
  return results;
}

// --- DKIM ---------------------------------------------------------------------------------------------

const dnsAnswers = new Map<string, Promise<string[][]>>();

/** One lookup per key name per run (a 40-patch series from one domain asks once), bounded in time. */
const dnsResolver: TxtResolver = (name) => {
  let answer = dnsAnswers.get(name);
  if (!answer) {
    answer = new Resolver({ timeout: 4000, tries: 2 }).resolveTxt(name);
    dnsAnswers.set(name, answer);
  }
  return answer;
};

const offlineResolver: TxtResolver = async () => {
  throw Object.assign(new Error("offline"), { code: "EOFFLINE" });
};

async function verifyDkim(raw: string, options: AttestationOptions): Promise<Attestation[]> {
  const resolver = options.offline ? offlineResolver : (options.dnsResolver ?? dnsResolver);
  // DKIM signed the message as sent: CRLF line ends.
  const sent = Buffer.from(raw.replace(/\r?\n/g, "\r\n"));
  const { results } = await dkimVerify(sent, { resolver: (name: string) => resolver(name, "TXT") });
  return results.map((r): Attestation => {
    const where = `DKIM d=${r.signingDomain} s=${r.selector ?? "?"}`;
    const comment = r.status.comment ? String(r.status.comment) : "";
    const base = { kind: "dkim" as const, identity: r.signingDomain };
    switch (r.status.result) {
      case "pass":
        return { ...base, status: "pass", detail: `${where}: signature verified` };
      case "fail":
        return { ...base, status: "fail", detail: `${where}: ${comment || "bad signature"}` };
    }
    // mailauth reports a changed body as "neutral"; for a patch it is the failure that matters most.
    if (comment === "body hash did not verify")
      return { ...base, status: "fail", detail: `${where}: the body changed after signing (body hash does not match)` };
    if (comment === "no key")
      return {
        ...base,
        status: "unverifiable",
        detail: `${where}: no key at ${r.selector}._domainkey.${r.signingDomain} (removed or rotated since the mail was sent?)`,
      };
    if (/EOFFLINE/.test(comment)) return { ...base, status: "unverifiable", detail: `${where}: offline, the key was not looked up` };
    if (r.status.result === "temperror") return { ...base, status: "unverifiable", detail: `${where}: key lookup failed (${comment})` };
    return { ...base, status: "unverifiable", detail: `${where}: ${r.status.result}${comment ? ` (${comment})` : ""}` };
  });
}

// --- patatt -------------------------------------------------------------------------------------------

interface HeaderItem {
  name: string;
  /** After the colon, folded lines and their line ends kept, as patatt reads it. */
  value: string;
  /** The whole header, name and line ends included. */
  text: string;
}

/** Headers the way patatt's PatattMessage reads them; undefined when there is no header/body split. */
function headerItems(raw: string): HeaderItem[] | undefined {
  const items: HeaderItem[] = [];
  for (const line of raw.match(/[^\n]*\n|[^\n]+$/g) ?? []) {
    if (/^[ \t\n\r\f\v]*$/.test(line)) return items.length ? items : undefined;
    if ((line[0] === " " || line[0] === "\t") && items.length) {
      items.at(-1)!.text += line;
      items.at(-1)!.value += line;
      continue;
    }
    const colon = line.indexOf(":");
    items.push({ name: (colon < 0 ? line : line.slice(0, colon)).trim(), value: colon < 0 ? "" : line.slice(colon + 1), text: line });
  }
  return undefined;
}

/** DKIM "relaxed" header value, patatt's flavour (which also decodes q-encoded words first). */
function canonicalHeaderValue(value: string): string {
  const decoded = value.includes("?q?") ? decodeHeaderWords(value) : value;
  return `${decoded
    .replace(/[\r\n]/g, "")
    .replace(/[ \t\n\r\f\v]+/g, " ")
    .trim()}\r\n`;
}

function parseTags(value: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const chunk of canonicalHeaderValue(value)
    .replace(/[ \t\n\r\f\v]/g, "")
    .split(";")) {
    const eq = chunk.indexOf("=");
    if (eq >= 0) tags.set(chunk.slice(0, eq), chunk.slice(eq + 1));
  }
  return tags;
}

/** Python's urllib.parse.quote_plus, which patatt uses for keyring paths. */
function quotePlus(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, "+");
}

async function verifyPatatt(raw: string, headers: HeaderItem[], value: string, options: AttestationOptions): Promise<Attestation> {
  const tags = parseTags(value);
  const from = headers.find((h) => h.name.toLowerCase() === "from")?.value ?? "";
  const identity = tags.get("i") ?? /<([^<>\s]+)>/.exec(from)?.[1] ?? from.trim();
  const algorithm = tags.get("a") ?? "";
  const selector = tags.get("s") ?? "default";
  const seen = `patatt signature present (i=${identity}, a=${algorithm || "?"}, s=${selector}`;
  const result = (status: AttestationStatus, detail: string): Attestation => ({ kind: "patatt", status, identity: identity || undefined, detail });

  const keyType = /^(ed25519|openssh|openpgp)/.exec(algorithm)?.[1];
  if (!keyType) return result("fail", `${seen}; unknown algorithm)`);
  const [local, domain] = identity.split(/@(?=[^@]*$)/);
  if (!local || !domain) return result("fail", `${seen}; i= is not an address)`);
  if (!options.keyring) return result("unverifiable", `${seen}, not verified: no patatt keyring given)`);
  const keyFile = join(options.keyring, ...[keyType, domain.toLowerCase(), local.toLowerCase(), selector.toLowerCase()].map(quotePlus));
  if (!existsSync(keyFile)) return result("unverifiable", `${seen}, not verified: no key at ${keyFile})`);

  if (keyType !== "openpgp" && !tags.get("t")) return result("fail", `${seen}; no t= (signing time), which ${keyType} signatures carry)`);

  const exec = options.exec ?? createExec();
  const canonical = await gitCanonicalise(raw, headers, exec);
  const signed = signedHeaders(canonical.headers, tags);
  if (typeof signed === "string") return result("fail", `${seen}; ${signed})`);
  const bodyHash = createHash("sha256").update(canonical.body).digest("base64");
  if (tags.get("bh") !== bodyHash) return result("fail", `patatt i=${identity}: the body changed after signing (body hash does not match)`);

  // What was signed: the signed headers, then this header up to "b=" (the last one, as patatt splits it).
  const own = canonicalHeaderValue(value);
  const b = own.lastIndexOf("b=");
  const digest = createHash("sha256")
    .update(Buffer.concat([...signed.map((h) => Buffer.from(h)), Buffer.from(`x-developer-signature:${own.slice(0, b + 2)}`)]))
    .digest();
  const signature = own.slice(b + 2).replace(/[ \t\n\r\f\v]/g, "");
  const key = readFileSync(keyFile);
  let checked: true | string;
  try {
    checked =
      keyType === "ed25519"
        ? checkEd25519(signature, key, digest)
        : keyType === "openssh"
          ? await checkOpenssh(signature, key, digest, exec)
          : await checkOpenpgp(signature, key, digest, exec);
  } catch (error) {
    if (error instanceof ToolMissingError) return result("unverifiable", `${seen}, not verified: ${error.message})`);
    throw error;
  }
  return checked === true
    ? result("pass", `patatt i=${identity} (${keyType}): signature verified with ${keyFile}`)
    : result("fail", `patatt i=${identity} (${keyType}): ${checked}`);
}

/** Body and From/Subject as `git mailinfo` gives them, as patatt's git_canonicalize() does. */
async function gitCanonicalise(raw: string, headers: HeaderItem[], exec: Exec): Promise<{ headers: string[]; body: Buffer }> {
  const dir = mkdtempSync(join(tmpdir(), "wdh-patatt-"));
  try {
    const info = await exec("git", ["mailinfo", "--encoding=utf-8", "--no-scissors", join(dir, "m"), join(dir, "p")], {
      cwd: dir,
      input: Buffer.from(raw.replace(/\r\n/g, "\n")),
    });
    const both = Buffer.concat([readFileSync(join(dir, "m")), readFileSync(join(dir, "p"))]).toString("latin1");
    const body = Buffer.from(
      both
        .replace(/[\r\n]*$/, "")
        .split("\n")
        .map((l) => `${l.replace(/[\r\n]*$/, "")}\r\n`)
        .join(""),
      "latin1",
    );
    const fields = new Map<string, string>();
    for (const line of info.stdout.replace(/[\r\n]*$/, "").split("\n")) {
      const colon = line.indexOf(":");
      if (colon > 0) fields.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
    }
    const canonical = headers.map((h) => {
      const name = h.text.slice(0, h.text.indexOf(":"));
      if (name.toLowerCase() === "from") return `${name}: ${fields.get("author") ?? ""} <${fields.get("email") ?? ""}>`;
      if (name.toLowerCase() === "subject") return `${name}: ${fields.get("subject") ?? ""}`;
      return h.text;
    });
    return { headers: canonical, body };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The h= headers, canonical, bottom-most first for a repeated name, as DKIM and patatt take them. */
function signedHeaders(canonical: string[], tags: Map<string, string>): string[] | string {
  const h = tags.get("h");
  if (!h) return 'no "h=" in the signature';
  const names = h.split(":").map((n) => n.trim());
  if (!["from", "subject"].every((n) => names.includes(n))) return "From and Subject are not both signed";
  const parsed = canonical
    .filter((t) => t.includes(":"))
    .map((t) => ({ name: t.slice(0, t.indexOf(":")).trim().toLowerCase(), value: t.slice(t.indexOf(":") + 1) }))
    .reverse();
  const out: string[] = [];
  for (const name of names) {
    const at = parsed.findIndex((p) => p.name === name);
    if (at < 0) continue; // a signed header that is absent contributes nothing (RFC 6376)
    out.push(`${name}:${canonicalHeaderValue(parsed[at]!.value)}`);
    parsed.splice(at, 1);
  }
  return out;
}

/** patatt's ed25519 b= is NaCl's signed message: the 64-byte signature, then the digest it signed. */
function checkEd25519(signature: string, keyFile: Buffer, digest: Buffer): true | string {
  const signedMessage = Buffer.from(signature, "base64");
  const raw = Buffer.from(keyFile.toString("latin1").replace(/[^A-Za-z0-9+/=]/g, ""), "base64");
  if (raw.length !== 32) return "the keyring's ed25519 key is not 32 bytes";
  const key = createPublicKey({ key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), raw]), format: "der", type: "spki" });
  if (signedMessage.length !== 96 || !verify(null, signedMessage.subarray(64), key, signedMessage.subarray(0, 64))) return "bad signature";
  return signedMessage.subarray(64).equals(digest) ? true : "the signed headers changed after signing";
}

async function checkOpenssh(signature: string, keyFile: Buffer, digest: Buffer, exec: Exec): Promise<true | string> {
  const dir = mkdtempSync(join(tmpdir(), "wdh-patatt-ssh-"));
  try {
    const [type, key] = keyFile.toString("utf8").trim().split(/\s+/);
    writeFileSync(join(dir, "signers"), `patatter@local namespaces="patatt" ${type} ${key}\n`);
    writeFileSync(join(dir, "sig"), `-----BEGIN SSH SIGNATURE-----\n${signature}\n-----END SSH SIGNATURE-----\n`);
    const r = await exec("ssh-keygen", ["-Y", "verify", "-n", "patatt", "-I", "patatter@local", "-f", join(dir, "signers"), "-s", join(dir, "sig")], {
      input: digest,
      allowFailure: true,
    });
    return r.exitCode === 0 ? true : `bad signature (ssh-keygen: ${(r.stderr || r.stdout).trim().split("\n")[0]})`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The openpgp b= is a signed (not detached) message holding the digest; gpg in a throw-away home. */
async function checkOpenpgp(signature: string, keyFile: Buffer, digest: Buffer, exec: Exec): Promise<true | string> {
  const home = mkdtempSync(join(tmpdir(), "wdh-patatt-gpg-"));
  try {
    const gpg = (args: string[], input: Buffer) =>
      exec("gpg", ["--batch", "--no-auto-key-retrieve", "--no-auto-check-trustdb", "--homedir", home, ...args], { input, allowFailure: true });
    const imported = await gpg(["--status-fd=1", "--import"], keyFile);
    if (!imported.stdout.includes("[GNUPG:] IMPORT_OK")) return "the keyring's openpgp key did not import";
    const out = join(home, "signed-digest");
    const checked = await gpg(["--status-fd=2", "--output", out, "--verify"], Buffer.from(signature, "base64"));
    if (checked.exitCode !== 0 || !/^\[GNUPG:\] GOODSIG /m.test(checked.stderr) || !/^\[GNUPG:\] VALIDSIG /m.test(checked.stderr)) return "bad signature";
    return readFileSync(out).equals(digest) ? true : "the signed headers changed after signing";
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
