// kcidb.json: the run in KernelCI's KCIDB I/O schema v5.3 (one checkout, one build, a test per guest test,
// per benchmark figure and per stage after the build that can fail). A pure function of results.json and
// manifest.json, so an old run folder can be reported again and saved run folders are its tests.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { UsageError } from "../../lib/errors.ts";
import type { RunResults } from "./results.ts";

export type KcidbStatus = "PASS" | "FAIL" | "ERROR" | "MISS" | "SKIP" | "DONE";

export interface KcidbCheckout {
  id: string;
  origin: string;
  tree_name?: string;
  git_repository_url?: string;
  git_repository_branch?: string;
  git_commit_hash?: string;
  patchset_hash?: string;
  patchset_files?: { name: string; url: string }[];
  message_id?: string;
  comment?: string;
  start_time?: string;
  valid?: boolean;
  log_url?: string;
  log_excerpt?: string;
  misc?: Record<string, unknown>;
}

export interface KcidbBuild {
  id: string;
  checkout_id: string;
  origin: string;
  architecture?: string;
  config_name?: string;
  compiler?: string;
  duration?: number;
  status: KcidbStatus;
  log_url?: string;
  log_excerpt?: string;
  comment?: string;
  misc?: Record<string, unknown>;
}

export interface KcidbTest {
  id: string;
  build_id: string;
  origin: string;
  path: string;
  status: KcidbStatus;
  duration?: number;
  comment?: string;
  log_url?: string;
  log_excerpt?: string;
  environment?: { comment?: string; misc?: Record<string, unknown> };
  number?: { value: number; unit?: string };
  misc?: Record<string, unknown>;
}

export interface KcidbDocument {
  version: { major: 5; minor: 3 };
  checkouts: KcidbCheckout[];
  builds: KcidbBuild[];
  tests: KcidbTest[];
}

export interface KcidbOptions {
  /** The CI system's name in KCIDB (`^[a-z0-9_]+$`), agreed with KernelCI. */
  origin: string;
  /** Where this run folder is published (e.g. https://ci.example.org/runs/<id>); log_url fields only with it. */
  logUrlBase?: string;
  /** Overrides the tree name derived from the tree (debian-6.12, mainline, the folder's name). */
  treeName?: string;
}

export const DEFAULT_ORIGIN = "warpdrive";

/** The options from the environment: WDH_KCIDB_ORIGIN, WDH_KCIDB_LOG_URL (`{run}` becomes the run id), WDH_KCIDB_TREE_NAME. */
export function kcidbOptionsFrom(env: Record<string, string | undefined>, runId?: string): KcidbOptions {
  const origin = env.WDH_KCIDB_ORIGIN || DEFAULT_ORIGIN;
  if (!/^[a-z0-9_]+$/.test(origin)) throw new UsageError(`WDH_KCIDB_ORIGIN=${origin}: a KCIDB origin is lower-case letters, digits and _`);
  const base = env.WDH_KCIDB_LOG_URL;
  return {
    origin,
    logUrlBase: base ? base.replace("{run}", runId ?? "").replace(/\/+$/, "") : undefined,
    treeName: env.WDH_KCIDB_TREE_NAME || undefined,
  };
}

/** The parts of manifest.json the report reads (older run folders may lack any of them). */
export interface ManifestView {
  id?: string;
  command?: string;
  startedAt?: string;
  profile?: { name?: string; toolchain?: { arch?: string; crossCompile?: string } };
  inputs?: {
    tree?: { kind?: string; url?: string; ref?: string; path?: string; package?: string };
    machine?: string;
    series?: { source?: { kind?: string; files?: string[] } }[];
  };
  tools?: Record<string, string>;
  tree?: { description?: string; baseCommit?: string; kernelVersion?: string; path?: string; debian?: { package: string; version: string } };
  series?: { base?: string; head?: string; series?: string[]; patches?: PatchView[] };
  kconfig?: { base?: string; fragments?: { path: string }[] };
  kernel?: { kernelRelease?: string; imageSha256?: string };
  guestTests?: { suite: string; name: string }[];
}

interface PatchView {
  subject?: string;
  sha256: string;
  provenance?: { kind: string; messageId?: string; url?: string };
}

type ResultsView = Pick<RunResults, "run" | "exitCode" | "reason" | "stages" | "tests"> & Partial<RunResults>;

/** sha256 over the newline-terminated sha256 hex digests of the patches, in order; "" with no patches. */
export function patchsetHash(patchSha256s: string[]): string {
  if (patchSha256s.length === 0) return "";
  return createHash("sha256")
    .update(patchSha256s.map((h) => `${h}\n`).join(""))
    .digest("hex");
}

const EXCERPT_MAX = 16384;
const excerpt = (lines: (string | undefined)[]) => {
  const text = lines
    .filter((l): l is string => Boolean(l))
    .join("\n")
    .replace(/\0/g, "");
  return text ? (text.length > EXCERPT_MAX ? text.slice(0, EXCERPT_MAX - 4) + "\n..." : text) : undefined;
};
const seconds = (ms: number) => Math.round(ms) / 1000;
/** A KCIDB path segment: letters, digits, _ and -. */
const segment = (s: string) => s.replace(/[^a-zA-Z0-9_-]+/g, "_").replace(/^_+|_+$/g, "") || "_";

/** Stages after the build that are tests of the kernel (or of what boots it), and their KCIDB paths. */
const STAGE_PATHS: Record<string, string> = {
  checkpatch: "checkpatch",
  "qemu-source": "qemu.source",
  "qemu-series": "qemu.series",
  "qemu-build": "qemu.build",
  "qemu-check": "qemu.check",
  rootfs: "rootfs",
  boot: "boot",
  ssh: "boot.ssh",
  shutdown: "shutdown",
};

/** How the run ended: an infrastructure fault or an interruption leaves what did not run as MISS. */
function endKind(exitCode: number): "ok" | "regression" | "usage" | "infra" {
  if (exitCode === 0) return "ok";
  if (exitCode === 1) return "regression";
  if (exitCode === 2) return "usage";
  return "infra";
}

/**
 * `intendedPatches`: the sha256 of each patch the run meant to apply, for a series that failed before the
 * manifest recorded its patches (the writer hashes the files); without them such a checkout has no patchset_hash.
 */
export function kcidbOf(results: ResultsView, manifest: ManifestView, options: KcidbOptions, intendedPatches?: string[]): KcidbDocument {
  const { origin } = options;
  const runId = results.run;
  const kind = endKind(results.exitCode);
  const stage = (name: string) => results.stages.find((s) => s.stage === name);
  const logUrl = (file?: string) => (options.logUrlBase && file ? `${options.logUrlBase}/${basename(file)}` : undefined);
  const failedStatus: KcidbStatus = kind === "regression" ? "FAIL" : "ERROR";
  const notRunStatus: KcidbStatus = kind === "infra" ? "MISS" : "SKIP";

  const checkout = checkoutOf(results, manifest, options, stage("series"), logUrl, intendedPatches);
  const doc: KcidbDocument = { version: { major: 5, minor: 3 }, checkouts: [checkout], builds: [], tests: [] };
  if (checkout.valid === false) return doc;
  const kconfig = stage("kconfig");
  const build = stage("build");
  if (!kconfig && !build) return doc;

  const arch = manifest.profile?.toolchain?.arch ?? "arm64";
  const buildFailed = build?.status === "fail" ? build : kconfig?.status === "fail" ? kconfig : undefined;
  const buildStatus: KcidbStatus = buildFailed
    ? buildFailed.stage === "kconfig" || kind !== "regression"
      ? "ERROR"
      : "FAIL"
    : build && build.status !== "skip"
      ? "PASS"
      : "MISS";
  const cross = manifest.profile?.toolchain?.crossCompile ?? "";
  const compiler = manifest.tools?.[`${cross}gcc`] ?? manifest.tools?.gcc;
  const buildId = `${origin}:${runId}.build.${segment(arch)}`;
  doc.builds.push(
    strip({
      id: buildId,
      checkout_id: checkout.id,
      origin,
      architecture: segment(arch).toLowerCase(),
      config_name: configName(manifest),
      compiler,
      duration: seconds((kconfig?.durationMs ?? 0) + (build?.durationMs ?? 0)),
      status: buildStatus,
      log_url: logUrl(build?.logFile ?? kconfig?.logFile),
      log_excerpt: buildFailed ? excerpt([`${buildFailed.stage}: ${buildFailed.reason ?? "failed"}`, ...(buildFailed.details ?? [])]) : undefined,
      misc: strip({ run: runId, kernel_release: manifest.kernel?.kernelRelease ?? results.kernelRelease, image_sha256: manifest.kernel?.imageSha256 }),
    }),
  );
  if (buildStatus !== "PASS") return doc;

  const environment = environmentOf(results, manifest);
  const test = (path: string, status: KcidbStatus, extra: Partial<KcidbTest> = {}): KcidbTest =>
    strip({ id: `${origin}:${runId}.${path}`, build_id: buildId, origin, path, status, environment, ...extra });

  for (const s of results.stages) {
    const path = STAGE_PATHS[s.stage];
    if (!path || s.status === "skip") continue;
    const status: KcidbStatus = s.status === "fail" ? failedStatus : "PASS";
    doc.tests.push(
      test(path, status, {
        duration: seconds(s.durationMs),
        comment: s.reason,
        log_url: logUrl(s.logFile),
        log_excerpt: s.status === "fail" ? excerpt([s.reason, ...(s.details ?? [])]) : undefined,
      }),
    );
  }
  // A boot-test whose boot never started (an earlier stage or the host failed it) still says so.
  const plannedBoot = (manifest.guestTests?.length ?? 0) > 0 || manifest.command === "boot-test" || manifest.command === "replay";
  const bootRan = results.stages.some((s) => s.stage === "boot" && s.status !== "skip");
  if (plannedBoot && !bootRan) doc.tests.push(test("boot", notRunStatus, { comment: `not run: ${results.reason ?? "an earlier stage failed"}` }));

  const consoleUrl = logUrl("console.log");
  const seen = new Set<string>();
  for (const t of results.tests) {
    const path = `${segment(t.suite)}.${segment(t.name)}`;
    seen.add(path);
    const status = testStatus(t.status, t.reason, notRunStatus);
    doc.tests.push(
      test(path, status, {
        duration: seconds(t.durationMs),
        comment: t.reason,
        log_url: status === "SKIP" || status === "MISS" ? undefined : consoleUrl,
        log_excerpt: status === "FAIL" || status === "ERROR" ? excerpt([t.reason, ...(t.kernelReport ?? [])]) : undefined,
        misc: t.findings?.length ? { findings: t.findings.map((f) => f.title) } : undefined,
      }),
    );
    // Each figure a benchmark printed is a test of its own with its number (only a test that ran has one).
    if (status === "SKIP" || status === "MISS") continue;
    for (const [name, m] of Object.entries(t.metrics ?? {})) {
      const metricPath = `${path}.${name.split(".").map(segment).join(".")}`;
      doc.tests.push(test(metricPath, status, { number: strip({ value: m.value, unit: m.unit || undefined }) }));
    }
  }
  for (const g of manifest.guestTests ?? []) {
    const path = `${segment(g.suite)}.${segment(g.name)}`;
    if (!seen.has(path)) doc.tests.push(test(path, notRunStatus, { comment: `not run: ${results.reason ?? "an earlier stage failed"}` }));
  }
  return doc;
}

function testStatus(status: string, reason: string | undefined, notRun: KcidbStatus): KcidbStatus {
  switch (status) {
    case "pass":
      return "PASS";
    case "fail":
      return "FAIL";
    case "error":
      return "ERROR";
    default:
      // "not run (the kernel died in ...)" is a consequence of the run, a TAP skip is the test's own word.
      return reason?.startsWith("not run") ? notRun : "SKIP";
  }
}

function checkoutOf(
  results: ResultsView,
  manifest: ManifestView,
  options: KcidbOptions,
  series: ResultsView["stages"][number] | undefined,
  logUrl: (file?: string) => string | undefined,
  intendedPatches: string[] | undefined,
): KcidbCheckout {
  const recorded = (manifest.series?.patches ?? results.patches) as PatchView[] | undefined;
  const patches = recorded ?? [];
  const asked = (manifest.inputs?.series ?? []).length > 0;
  const hash = recorded ? patchsetHash(recorded.map((p) => p.sha256)) : intendedPatches ? patchsetHash(intendedPatches) : asked ? undefined : "";
  const source = manifest.inputs?.tree ?? {};
  const base = manifest.tree?.baseCommit ?? manifest.series?.base;
  // A Debian source tree's base commit is the harness's own (the extracted package committed once): it is
  // in no public repository, so it goes to misc, not git_commit_hash.
  const publicCommit = source.kind === "git" || source.kind === "path";
  const url = source.kind === "git" && source.url?.startsWith("https://") ? source.url.replace(/\/+$/, "") : undefined;
  const mails = patches.map((p) => p.provenance).filter((p) => p?.kind === "lore" || p?.kind === "mbox");
  const messageId = mails.length === patches.length && mails.length > 0 ? mails[0]!.messageId?.replace(/^<|>$/g, "") : undefined;
  const loreUrls = patches.map((p) => (p.provenance?.kind === "lore" ? p.provenance.url : undefined));
  const idHash = createHash("sha256")
    .update(`${manifest.tree?.description ?? ""}\n${base ?? ""}\n${hash ?? results.run}`)
    .digest("hex")
    .slice(0, 16);
  const seriesNames = manifest.series?.series?.map((s) => basename(s)).join(", ");
  return strip({
    id: `${options.origin}:checkout.${idHash}`,
    origin: options.origin,
    tree_name: options.treeName ?? treeNameOf(manifest),
    git_repository_url: url,
    git_repository_branch: source.kind === "git" ? source.ref : undefined,
    git_commit_hash: publicCommit && base && /^[0-9a-f]{40}$/.test(base) ? base : undefined,
    patchset_hash: hash,
    patchset_files:
      loreUrls.length > 0 && loreUrls.every((u) => u?.startsWith("http"))
        ? loreUrls.map((u, i) => ({ name: `${String(i + 1).padStart(4, "0")}.patch`, url: u! }))
        : undefined,
    message_id: messageId && /^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$/.test(messageId) ? messageId : undefined,
    comment:
      [manifest.tree?.description, patches.length ? `+ ${patches.length} patches${seriesNames ? ` (${seriesNames})` : ""}` : undefined]
        .filter(Boolean)
        .join(" ") || undefined,
    start_time: manifest.startedAt,
    valid: series?.status === "fail" ? false : series && series.status !== "skip" ? true : undefined,
    log_url: logUrl(series?.logFile ?? (series?.status === "fail" ? "series.log" : undefined)),
    log_excerpt: series?.status === "fail" ? excerpt([series.reason, ...(series.details ?? [])]) : undefined,
    misc: strip({ base_commit: base, head_commit: manifest.series?.head, kernel_version: manifest.tree?.kernelVersion, profile: manifest.profile?.name }),
  });
}

/** debian-6.12 for Debian's linux-source-6.12, a well-known name for a kernel.org tree, else the tree's folder. */
export function treeNameOf(manifest: ManifestView): string | undefined {
  const source = manifest.inputs?.tree;
  const pkg = manifest.tree?.debian?.package ?? source?.package;
  if (source?.kind === "debian" || pkg) return pkg ? `debian-${pkg.replace(/^linux-source-/, "")}` : "debian";
  if (source?.kind === "git" && source.url) {
    const known: [RegExp, string][] = [
      [/torvalds\/linux(\.git)?$/, "mainline"],
      [/stable\/linux(-stable)?(\.git)?$/, "stable"],
      [/next\/linux-next(\.git)?$/, "next"],
    ];
    return known.find(([re]) => re.test(source.url!))?.[1] ?? basename(source.url).replace(/\.git$/, "");
  }
  const path = source?.path ?? manifest.tree?.path;
  return path ? basename(path) : undefined;
}

function configName(manifest: ManifestView): string | undefined {
  const k = manifest.kconfig;
  if (!k) return undefined;
  const fragments = (k.fragments ?? []).map((f) => basename(f.path).replace(/\.config$/, ""));
  return [k.base ?? "defconfig", ...fragments].join("+");
}

function environmentOf(results: ResultsView, manifest: ManifestView): KcidbTest["environment"] {
  const argv = (results.stages.find((s) => s.stage === "boot") as { argv?: string[] } | undefined)?.argv;
  const after = (flag: string) => (argv ? argv[argv.indexOf(flag) + 1] : undefined);
  const machine = manifest.inputs?.machine ? basename(manifest.inputs.machine).replace(/\.ya?ml$/, "") : undefined;
  const parts = argv ? [`qemu ${after("-machine") ?? "?"}`, after("-cpu"), after("-accel")?.toUpperCase()].filter(Boolean) : [];
  return strip({
    comment: parts.length ? parts.join(" ") : machine ? `qemu machine ${machine}` : undefined,
    misc: strip({ platform: `qemu-${manifest.profile?.toolchain?.arch ?? "arm64"}`, machine }),
  });
}

/** Drops undefined fields: the schema allows no null and no property it does not know. */
function strip<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** The patch files a run asked for, hashed now, when its series failed before recording them (files only). */
function intendedPatchHashes(manifest: ManifestView): string[] | undefined {
  if (manifest.series?.patches) return undefined;
  const sources = manifest.inputs?.series ?? [];
  if (sources.length === 0 || !sources.every((s) => s.source?.kind === "files" && s.source.files?.every((f) => existsSync(f)))) return undefined;
  return sources.flatMap((s) => s.source!.files!).map((f) => createHash("sha256").update(readFileSync(f)).digest("hex"));
}

/** kcidb.json of a run folder, from its results.json and manifest.json. */
export function kcidbForRunFolder(dir: string, options: KcidbOptions): KcidbDocument {
  const results = JSON.parse(readFileSync(join(dir, "results.json"), "utf8")) as ResultsView;
  const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as ManifestView;
  return kcidbOf(results, manifest, options, intendedPatchHashes(manifest));
}

/** Writes kcidb.json next to results.json; `manifest` is the run folder's manifest as it is in memory. */
export function writeKcidb(dir: string, results: ResultsView, manifest: ManifestView | Record<string, unknown>, options: KcidbOptions): KcidbDocument {
  const view = manifest as ManifestView;
  const doc = kcidbOf(results, view, options, intendedPatchHashes(view));
  writeFileSync(join(dir, "kcidb.json"), JSON.stringify(doc, null, 2) + "\n");
  return doc;
}
