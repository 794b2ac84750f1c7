// Where a series' patches come from: files in a folder (listed or a quilt series file), an mbox, a lore
// thread, or a git range. Each source is turned into .patch files `git am` takes, and each patch keeps a
// record of where it came from (provenance) and what its mail's signatures said.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { SeriesSpec } from "../../config/specs.ts";
import { fillDirOnce } from "../../lib/atomic.ts";
import { UsageError } from "../../lib/errors.ts";
import { git, gitOut } from "../../lib/git.ts";
import { cacheDir, sha256 } from "../../lib/paths.ts";
import type { Deps } from "../../lib/stage.ts";
import { verifyAttestations, type Attestation } from "./attestation.ts";
import { fetchThread } from "./lore.ts";
import { pickSeries, splitMbox, toAmMbox, type MailMessage, type PickedSeries } from "./mbox.ts";

export type { SeriesSpec, SourceSpec } from "../../config/specs.ts";

export type Provenance =
  | { kind: "file"; file: string }
  | { kind: "mbox"; mbox: string; messageId: string; part: string }
  | { kind: "lore"; url: string; messageId: string; part: string; thread: string; fromCache: boolean }
  | { kind: "git"; repo: string; commit: string };

export interface SeriesPatch {
  series: string;
  file: string;
  provenance: Provenance;
  /** DKIM / patatt results of the mail the patch came in (empty for files and commits). */
  attestations: Attestation[];
}

export interface MaterializedSeries {
  name: string;
  base: string;
  after?: string;
  /** The source in words: "lore <id> v2 (3 patches)", "mbox x.mbox", "git /src/linux v6.12..wd". */
  source: string;
  cover?: { subject: string; messageId: string };
  /** What picking a series from a thread chose and why (versions skipped, duplicates). */
  notes?: string[];
  patches: SeriesPatch[];
}

export interface SourceOptions {
  loreUrl: string;
  offline: boolean;
}

export async function materializeSeries(spec: SeriesSpec, options: SourceOptions, deps: Deps): Promise<MaterializedSeries> {
  const common = { name: spec.name, base: spec.manifest.base, after: spec.manifest.after };
  const src = spec.source;
  let result: MaterializedSeries;
  if (src.kind === "files") {
    const patches = src.files.map((file) => ({ series: spec.name, file, provenance: { kind: "file" as const, file }, attestations: [] }));
    result = { ...common, source: `files in ${spec.dir}`, patches };
  } else if (src.kind === "git") {
    result = { ...common, ...(await fromGitRange(spec.name, src.repo, src.range, deps)) };
  } else {
    let messages: MailMessage[];
    let where: (m: MailMessage, part: string) => Provenance;
    let described: string;
    if (src.kind === "mbox") {
      messages = splitMbox(readFileSync(src.file, "utf8"));
      where = (m, part) => ({ kind: "mbox", mbox: src.file, messageId: m.messageId, part });
      described = `mbox ${src.file}`;
    } else {
      deps.progress(`fetching lore thread ${src.messageId}`);
      const thread = await fetchThread(src.messageId, { baseUrl: options.loreUrl, offline: options.offline, signal: deps.signal });
      messages = splitMbox(thread.mbox);
      where = (m, part) => ({ kind: "lore", url: thread.url, messageId: m.messageId, part, thread: thread.sha256, fromCache: thread.fromCache });
      described = `lore ${thread.messageId}${thread.fromCache ? " (cached)" : ""}`;
    }
    const picked = pickSeries(messages, { version: src.version });
    result = {
      ...common,
      ...(await fromMails(spec.name, picked, where, options.offline, deps)),
      source: `${described} v${picked.version} (${picked.total} patches)`,
    };
  }
  const count = spec.manifest.count;
  if (count !== undefined && result.patches.length !== count) {
    throw new UsageError(`series ${spec.name}: ${result.source} gives ${result.patches.length} patches, its manifest says ${count}`);
  }
  return result;
}

async function fromMails(
  name: string,
  picked: PickedSeries,
  where: (m: MailMessage, part: string) => Provenance,
  offline: boolean,
  deps: Deps,
): Promise<Pick<MaterializedSeries, "patches" | "cover" | "notes">> {
  const texts = picked.patches.map(toAmMbox);
  // Content-addressed: the same mails give the same files, so the series stage's reuse key holds.
  const dir = await fillDirOnce(join(cacheDir("series"), `mail-${sha256(JSON.stringify(texts)).slice(0, 20)}`), (tmp) => {
    texts.forEach((t, i) => writeFileSync(join(tmp, patchFileName(i, picked.patches[i]!.subject)), t));
  });
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".patch"))
    .sort();
  const patches: SeriesPatch[] = [];
  for (const [i, message] of picked.patches.entries()) {
    deps.progress(`checking signatures of ${i + 1}/${picked.total}`);
    const part = `v${picked.version} ${i + 1}/${picked.total}`;
    patches.push({ series: name, file: join(dir, files[i]!), provenance: where(message, part), attestations: await attest(message.raw, offline) });
  }
  const cover = picked.cover ? { subject: picked.cover.subject, messageId: picked.cover.messageId } : undefined;
  return { patches, cover, notes: picked.notes };
}

/** A mail without signatures costs nothing; one with a DKIM signature may wait for DNS, so it is bounded. */
async function attest(raw: string, offline: boolean): Promise<Attestation[]> {
  if (!/^(DKIM-Signature|X-Developer-Signature):/im.test(raw)) return [];
  return verifyAttestations(raw, { keyring: process.env.WDH_PATATT_KEYRING, offline });
}

async function fromGitRange(name: string, repo: string, range: string, deps: Deps): Promise<Pick<MaterializedSeries, "patches" | "source">> {
  if (!existsSync(join(repo, ".git")) && !existsSync(join(repo, "HEAD"))) throw new UsageError(`git range ${range}: ${repo} is not a git repository`);
  const [from, to] = range.split(/\.\.\.?/);
  const resolveEnd = async (ref: string) => {
    const r = await git(deps.exec, repo, ["rev-parse", "-q", "--verify", `${ref}^{commit}`], { allowFailure: true });
    if (r.exitCode !== 0) throw new UsageError(`git range ${range}: ${ref} is not a commit of ${repo}`);
    return r.stdout.trim();
  };
  const base = await resolveEnd(from!);
  const tip = await resolveEnd(to || "HEAD");
  const commits = (await gitOut(deps.exec, repo, ["rev-list", "--reverse", "--no-merges", `${base}..${tip}`])).split("\n").filter(Boolean);
  if (commits.length === 0) throw new UsageError(`git range ${range} in ${repo} has no commits`);
  // Keyed by the commits themselves: a rewritten branch gives a new folder, the same range reuses the old one.
  const dir = await fillDirOnce(join(cacheDir("series"), `git-${sha256(`${repo}\n${base}..${tip}`).slice(0, 20)}`), async (tmp) => {
    deps.progress(`git format-patch ${range}`);
    await git(deps.exec, repo, ["format-patch", "-q", "--no-merges", "-o", tmp, `${base}..${tip}`], { signal: deps.signal });
  });
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".patch"))
    .sort();
  if (files.length !== commits.length) throw new UsageError(`git range ${range}: format-patch wrote ${files.length} patches for ${commits.length} commits`);
  const patches = files.map((f, i): SeriesPatch => {
    const file = join(dir, f);
    const commit = /^From ([0-9a-f]{40}) /.exec(readFileSync(file, "utf8"))?.[1] ?? commits[i]!;
    return { series: name, file, provenance: { kind: "git", repo, commit }, attestations: [] };
  });
  return { patches, source: `git ${repo} ${range} (${commits.length} commits)` };
}

function patchFileName(i: number, subject: string): string {
  const title = subject
    .replace(/^\[[^\]]*\]\s*/, "")
    .replace(/[^A-Za-z0-9]+/g, "-")
    .replace(/^-|-$/g, "")
    .slice(0, 52);
  return `${String(i + 1).padStart(4, "0")}-${title || "patch"}.patch`;
}

export function describeProvenance(p: Provenance): string {
  switch (p.kind) {
    case "file":
      return basename(p.file);
    case "mbox":
      return `${basename(p.mbox)} <${p.messageId}> ${p.part}`;
    case "lore":
      return `lore <${p.messageId}> ${p.part}`;
    case "git":
      return `${p.repo} ${p.commit.slice(0, 12)}`;
  }
}
