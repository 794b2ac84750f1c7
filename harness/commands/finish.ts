// The end of every command: the verdict, its exit code, results.json, junit.xml, reproduce.sh and a
// summary a developer can act on.
import { chmodSync, writeFileSync } from "node:fs";
import { ExitCode, exitCodeFor, HarnessError } from "../lib/errors.ts";
import { shellQuote } from "../lib/exec.ts";
import { repoRoot } from "../lib/paths.ts";
import { kernelMakeArgs, kernelMakeEnv } from "../stages/build/make.ts";
import { qemuBuildEnv } from "../stages/qemu-build/build.ts";
import { writeResults, type RunResults } from "../stages/report/results.ts";
import { kcidbOptionsFrom, writeKcidb } from "../stages/report/kcidb.ts";
import { isFailure, reportExcerpt } from "../stages/triage/triage.ts";
import { placeOf, testSpans } from "../stages/triage/attribution.ts";
import { attributed, smmuReport, smmuSummaryLine, unexpectedText, type AttributedSmmuEvent, type SmmuReport } from "../stages/triage/smmu-expect.ts";
import type { Context } from "./context.ts";

export interface Verdict {
  exitCode: number;
  reason?: string;
  details: string[];
}

export function verdictOf(ctx: Context): Verdict {
  if (ctx.error) {
    const details = ctx.error instanceof HarnessError ? ctx.error.details : [];
    return { exitCode: exitCodeFor(ctx.error), reason: ctx.error instanceof Error ? ctx.error.message : String(ctx.error), details };
  }
  if (ctx.failure) {
    // A Kconfig option that cannot be had is a configuration problem, not a regression.
    const exitCode = ctx.failure.stage === "kconfig" ? ExitCode.usage : ExitCode.failure;
    return { exitCode, reason: `${ctx.failure.stage}: ${ctx.failure.reason}`, details: ctx.failure.details ?? [] };
  }
  const outside = consoleFindings(ctx).filter(isFailure);
  if (outside.length > 0) {
    return { exitCode: ExitCode.failure, reason: `the kernel logged ${outside[0]!.title} outside any test`, details: reportExcerpt(outside[0]!) };
  }
  // An SMMU event no test claimed happened at boot, between tests or after them: nobody expected it.
  const stray = outsideSmmuEvents(ctx);
  if (stray.length > 0) {
    const more = stray.length > 1 ? ` (and ${stray.length - 1} more)` : "";
    return { exitCode: ExitCode.failure, reason: `${unexpectedText(stray[0]!)}${more}`, details: stray.slice(1).map(unexpectedText) };
  }
  return { exitCode: ExitCode.ok, details: [] };
}

/** SMMU events on the console outside every test, placed (boot, between tests, after the last). */
function outsideSmmuEvents(ctx: Context): AttributedSmmuEvent[] {
  const guest = ctx.guest;
  if (!guest) return [];
  const spans = testSpans(guest.lines);
  return consoleFindings(ctx).flatMap((f) => (f.smmu ? [attributed(f, f.smmu, undefined, placeOf(spans, f.lineIndex), false)] : []));
}

/** Every SMMU event of the run: the tests' (judged by their expects:) and the ones outside tests. */
function smmuOf(ctx: Context): SmmuReport | undefined {
  if (!ctx.guest) return undefined;
  const inTests = (ctx.tests ?? []).flatMap((t) => t.smmuEvents ?? []);
  const events = [...inTests, ...outsideSmmuEvents(ctx)].sort((a, b) => a.lineIndex - b.lineIndex);
  return smmuReport(events, ctx.guest.triage.findings.filter((f) => f.kind === "smmu-suppressed"));
}

/** Findings on the console that no test claimed (boot, shutdown). */
function consoleFindings(ctx: Context) {
  const guest = ctx.guest;
  if (!guest) return [];
  const claimed = new Set((ctx.tests ?? []).flatMap((t) => t.findings.map((f) => f.lineIndex)));
  return guest.triage.findings.filter((f) => !claimed.has(f.lineIndex));
}

export function finishRun(ctx: Context, command: string): Verdict {
  const verdict = verdictOf(ctx);
  const { run } = ctx;
  const results: RunResults = {
    run: run.id,
    status: verdict.exitCode === 0 ? "pass" : "fail",
    exitCode: verdict.exitCode,
    reason: verdict.reason,
    kernelRelease: ctx.build?.kernelRelease,
    timings: {
      ...Object.fromEntries(run.stages.map((s) => [s.stage, Math.round(s.durationMs)])),
      ...(ctx.bootReadyMs ? { bootToReadyMs: Math.round(ctx.bootReadyMs) } : {}),
      ...(ctx.sshReadyMs ? { bootToSshMs: Math.round(ctx.sshReadyMs) } : {}),
    },
    stages: run.stages,
    tests: (ctx.tests ?? []).map(({ tap: _tap, ...t }) => t),
    patches: ctx.series?.patches.map(({ file: _f, ...p }) => p),
    checkpatch: ctx.checkpatch,
    qemu: ctx.qemu && {
      source: ctx.qemu.tree.description,
      head: ctx.qemu.series?.head,
      binary: ctx.qemu.build?.binary,
      binarySha256: ctx.qemu.build?.binarySha256,
      buildKey: ctx.qemu.build?.key,
      patches: ctx.qemu.series?.patches.map(({ file: _f, ...p }) => p),
      checkpatch: ctx.qemu.checkpatch,
      qtests: ctx.qemu.checks,
    },
    consoleFindings: consoleFindings(ctx).map(({ id, kind, severity, title, lineIndex, signature }) => ({ id, kind, severity, title, lineIndex, signature })),
    smmu: smmuOf(ctx),
  };
  writeResults(run.dir, results);
  writeKcidb(run.dir, results, run.manifest, kcidbOptionsFrom(process.env, run.id));
  writeReproduce(ctx, command);
  run.set("finishedAt", new Date().toISOString());
  run.set("exitCode", verdict.exitCode);
  return verdict;
}

function writeReproduce(ctx: Context, command: string): void {
  const q = (argv: string[]) => argv.map(shellQuote).join(" ");
  const harnessLine = ctx.commandLine ? q(ctx.commandLine) : `npm run ${command} -- --profile ${shellQuote(ctx.job.profileFile)}`;
  const lines = [
    "#!/bin/sh",
    `# Reproduces run ${ctx.run.id}.`,
    "# With the harness, as it was started (the tree, series and QEMU as they are now):",
    `#   cd ${shellQuote(repoRoot)} && ${harnessLine}`,
    "# Exactly what it booted (kernel, initramfs and QEMU kept in the artifact store), no build:",
    `#   cd ${shellQuote(repoRoot)} && npm run replay -- ${shellQuote(ctx.run.dir)}`,
    "# By hand:",
    "set -e",
  ];
  const { tree, series, build, job } = ctx;
  if (tree && series && ctx.buildDir) {
    const buildDir = ctx.buildDir;
    const env = Object.entries(kernelMakeEnv(job.profile.toolchain)).map(([k, v]) => `${k}=${shellQuote(v)}`);
    const makeArgs = kernelMakeArgs({ buildDir, toolchain: job.profile.toolchain });
    if (tree.fetchArgv.length) {
      lines.push(`# the tree, fetched by the harness (once, in an empty folder with linux/ in it; then git init + commit in linux/):`);
      for (const argv of tree.fetchArgv) lines.push(`#   ${q(argv)}`);
    }
    lines.push(
      `cd ${shellQuote(tree.path)}`,
      series.patches.length ? `git checkout --detach ${series.head}   # ${series.patches.length} patches on ${series.base}` : `git checkout --detach ${series.head}`,
      `export ${env.join(" ")}`,
      `ARCH=${job.profile.toolchain.arch} CROSS_COMPILE=${job.profile.toolchain.crossCompile} ${q(["scripts/kconfig/merge_config.sh", "-n", "-O", buildDir, ...job.fragments])}`,
      q(["make", ...makeArgs, "olddefconfig"]),
      q(["make", ...makeArgs, "-j$(nproc)", "Image", "headers_install"]).replace("'-j$(nproc)'", "-j$(nproc)"),
    );
  }
  const qemu = ctx.qemu;
  if (qemu) {
    lines.push("# QEMU, built by the harness for this machine:");
    for (const argv of qemu.tree.fetchArgv) lines.push(`#   ${q(argv)}   (once, into an empty folder; then git init + commit)`);
    lines.push(`cd ${shellQuote(qemu.tree.path)}`);
    if (qemu.series) lines.push(`git checkout --detach ${qemu.series.head}   # ${qemu.series.patches.length} patches on ${qemu.series.base}`);
    if (qemu.build) {
      const env = Object.entries(qemuBuildEnv(ctx.job.qemu?.def.ccache ?? true)).map(([k, v]) => `${k}=${shellQuote(v)}`);
      if (env.length) lines.push(`export ${env.join(" ")}`);
      lines.push(`mkdir -p ${shellQuote(qemu.build.buildDir)} && cd ${shellQuote(qemu.build.buildDir)}`, q(qemu.build.configureArgv), q(qemu.build.ninjaArgv));
      for (const t of qemu.checks ?? []) lines.push(`QTEST_QEMU_BINARY=${shellQuote(qemu.build.binary)} ${q(t.argv)}`);
    }
  }
  if (build && ctx.guest) {
    lines.push(`# boot (the guest prints WDH-READY once dropbear listens; the run's key is ${ctx.run.file("id_ed25519")})`, q(ctx.guest.argv));
    // The guest's host key was pinned from its console; the same check by hand, with a known_hosts file.
    const knownHosts = ctx.run.file("known_hosts");
    writeFileSync(knownHosts, `[127.0.0.1]:${ctx.guest.sshPort} ${ctx.guest.hostKey}\n`);
    lines.push(
      `# in another terminal (the guest makes a new host key at each boot: replace known_hosts' key with the one it prints after WDH-HOSTKEY):`,
      `#   ssh -i ${shellQuote(ctx.run.file("id_ed25519"))} -p ${ctx.guest.sshPort} -o UserKnownHostsFile=${shellQuote(knownHosts)} -o StrictHostKeyChecking=yes root@127.0.0.1`,
    );
  }
  const file = ctx.run.file("reproduce.sh");
  writeFileSync(file, lines.join("\n") + "\n");
  chmodSync(file, 0o755);
}

export function summaryLines(ctx: Context, verdict: Verdict): string[] {
  const out: string[] = [];
  for (const t of ctx.tests ?? []) {
    out.push(`  ${t.status.padEnd(4)} ${t.suite}/${t.name}${t.reason && t.status !== "pass" ? `: ${t.reason}` : ""} (${(t.durationMs / 1000).toFixed(1)} s)`);
  }
  const smmu = smmuOf(ctx);
  const smmuLine = smmu && smmuSummaryLine(smmu);
  if (smmuLine) out.push(smmuLine);
  if (verdict.exitCode === 0) out.push(`PASS (exit 0)`);
  else out.push(`FAIL (exit ${verdict.exitCode}): ${verdict.reason}`, ...verdict.details.slice(0, 30).map((d) => `  ${d}`));
  out.push(`run folder: ${ctx.run.dir}`);
  return out;
}
