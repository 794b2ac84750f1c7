// The end of every command: the verdict, its exit code, results.json, junit.xml, reproduce.sh and a
// summary a developer can act on.
import { chmodSync, writeFileSync } from "node:fs";
import { HarnessBug, HarnessError, isAbort, stackLines } from "../lib/errors.ts";
import { exitCodeOf, failure, kindOfError, reasonOf, verdictLine, type Failure, type Outcome, type StageId } from "../lib/outcome.ts";
import { shellQuote } from "../lib/exec.ts";
import { repoRoot } from "../lib/paths.ts";
import { kernelMakeEnv } from "../stages/build/make.ts";
import type { RanCommand } from "../lib/stage.ts";
import { qemuBuildEnv } from "../stages/qemu-build/build.ts";
import { writeResults, type RunResults } from "../stages/report/results.ts";
import { writeRunReport } from "../stages/report/html/write.ts";
import { benchOf, headlineFigures } from "../stages/report/html/bench.ts";
import { kcidbOptionsFrom, writeKcidb } from "../stages/report/kcidb.ts";
import { crashSignature, isFailure, reportExcerpt, type Finding } from "../stages/triage/triage.ts";
import { placeOf, testSpans } from "../stages/triage/attribution.ts";
import { attributed, smmuReport, smmuSummaryLine, unexpectedText, type AttributedSmmuEvent, type SmmuReport } from "../stages/triage/smmu-expect.ts";
import type { Context } from "./context.ts";

export interface Verdict {
  exitCode: number;
  reason?: string;
  details: string[];
  outcome: Outcome;
}

/** The run's one outcome, and what the CLI shows of it. */
export function verdictOf(ctx: Context): Verdict {
  const outcome = outcomeOf(ctx);
  return { exitCode: exitCodeOf(outcome), reason: reasonOf(outcome), details: outcome.kind === "pass" ? [] : outcome.details, outcome };
}

/**
 * What the run's stages said, as one value: the kind of failure, the stage, the reason and a structured
 * signature. Interruption wins over everything (Ctrl-C in any stage is 130); then a fault that was thrown;
 * then the first failing stage; then what the kernel logged outside any test; then stray SMMU events.
 */
export function outcomeOf(ctx: Context): Outcome {
  const failedStage = ctx.failure;
  if (ctx.deps?.signal.aborted || (ctx.error !== undefined && isAbort(ctx.error)) || failedStage?.kind === "interrupted") {
    const stage = ctx.errorStage ?? failedStage?.stage ?? lastStage(ctx);
    return failure("interrupted", stage, `${stage}: interrupted`, [], { type: "message", text: "interrupted" });
  }
  if (ctx.error !== undefined) {
    const e = ctx.error;
    // A thrown HarnessError says its kind; anything else is a bug in the harness, shown with its stack.
    const kind = kindOfError(e);
    const message = e instanceof Error ? e.message : String(e);
    const stage = ctx.errorStage ?? lastStage(ctx);
    const details = e instanceof HarnessError ? e.details : stackLines(e);
    if (kind !== "bug") return failure(kind, stage, message, details);
    const what = e instanceof HarnessBug ? message : `${e instanceof Error ? e.name : "thrown"}: ${message}`;
    return failure("bug", stage, `a bug in the harness (${stage}): ${what}`, details);
  }
  if (failedStage) {
    const kind = failedStage.kind ?? "regression";
    const signature = failedStage.signature ?? { type: "message" as const, text: failedStage.reason ?? "failed" };
    const failedTests = failedStage.stage === "guest" ? failingTests(ctx) : undefined;
    const base = {
      ...failure(kind, failedStage.stage, `${failedStage.stage}: ${failedStage.reason}`, failedStage.details ?? [], signature),
      ...(failedTests ? { failedTests } : {}),
    };
    return kind === "regression" && signature.type === "tests" ? leadWithKernel(ctx, base) : base;
  }
  const outside = consoleFindings(ctx).filter(isFailure);
  if (outside.length > 0) {
    const f = outside[0]!;
    return failure("regression", "boot", `the kernel logged ${f.title} outside any test`, reportExcerpt(f), crashSignature(f));
  }
  // An SMMU event no test claimed happened at boot, between tests or after them: nobody expected it.
  const stray = outsideSmmuEvents(ctx);
  if (stray.length > 0) {
    const more = stray.length > 1 ? ` (and ${stray.length - 1} more)` : "";
    return failure("regression", "guest", `${unexpectedText(stray[0]!)}${more}`, stray.slice(1).map(unexpectedText));
  }
  return { kind: "pass" };
}

/**
 * Tests failed and the kernel said why (a WARNING at boot that kernel-log-clean noticed, an oops in a
 * test): the verdict leads with the kernel's own report, then names the tests that saw it.
 */
function leadWithKernel(ctx: Context, f: Failure): Failure {
  const run = ctx.guestRun;
  if (!run) return f;
  const failing = run.tests.filter((t) => t.status === "fail" || t.status === "error");
  const spans = testSpans(run.lines);
  const inTests = failing.flatMap((t) => t.findings.filter(isFailure));
  const beforeTests = consoleFindings(ctx)
    .filter(isFailure)
    .filter((x) => placeOf(spans, x.lineIndex).startsWith("during boot"));
  const report = [...beforeTests, ...inTests].sort((a, b) => a.lineIndex - b.lineIndex)[0];
  if (!report) return f;
  const place = placeOf(spans, report.lineIndex);
  const where = place.startsWith("during boot")
    ? "during boot"
    : `in ${failing.find((t) => t.findings.includes(report))?.suite}/${failing.find((t) => t.findings.includes(report))?.name}`;
  const seenBy = failing.map((t) => `${t.suite}/${t.name}`).join(", ");
  return {
    ...f,
    reason: `${f.stage}: the kernel logged ${report.title} ${where} (console line ${report.lineIndex + 1}); failed: ${seenBy}`,
    details: [...reportExcerpt(report), ...failing.map((t) => `${t.suite}/${t.name}: ${t.reason}`)],
    signature: crashSignature(report),
  };
}

function failingTests(ctx: Context): string[] {
  return (ctx.guestRun?.tests ?? []).filter((t) => t.status === "fail" || t.status === "error").map((t) => `${t.suite}/${t.name}`);
}

/** The last stage the run recorded (where an interruption or a fault with no stage of its own happened). */
function lastStage(ctx: Context): StageId {
  return ctx.run.stages[ctx.run.stages.length - 1]?.stage ?? "host";
}

/** SMMU events on the console outside every test, placed (boot, between tests, after the last). */
function outsideSmmuEvents(ctx: Context): AttributedSmmuEvent[] {
  const guest = ctx.guestRun;
  if (!guest) return [];
  const spans = testSpans(guest.lines);
  return consoleFindings(ctx).flatMap((f) => (f.smmu ? [attributed(f, f.smmu, undefined, placeOf(spans, f.lineIndex), false)] : []));
}

/** Every SMMU event of the run: the tests' (judged by their expects:) and the ones outside tests. */
function smmuOf(ctx: Context): SmmuReport | undefined {
  if (!ctx.guestRun) return undefined;
  const inTests = ctx.guestRun.tests.flatMap((t) => t.smmuEvents ?? []);
  const events = [...inTests, ...outsideSmmuEvents(ctx)].sort((a, b) => a.lineIndex - b.lineIndex);
  return smmuReport(
    events,
    ctx.guestRun.findings.filter((f) => f.kind === "smmu-suppressed"),
  );
}

/** Findings on the console that no test claimed (boot, shutdown). */
function consoleFindings(ctx: Context): Finding[] {
  const guest = ctx.guestRun;
  if (!guest) return [];
  const claimed = new Set(guest.tests.flatMap((t) => t.findings.map((f) => f.lineIndex)));
  return guest.findings.filter((f) => !claimed.has(f.lineIndex));
}

export function finishRun(ctx: Context, command: string): Verdict {
  const verdict = verdictOf(ctx);
  const { run } = ctx;
  const results: RunResults = {
    run: run.id,
    status: verdict.exitCode === 0 ? "pass" : "fail",
    exitCode: verdict.exitCode,
    reason: verdict.reason,
    outcome: verdict.outcome,
    kernelRelease: ctx.build?.kernelRelease,
    machine: ctx.job?.machine && {
      name: ctx.job.machine.name,
      executor: ctx.guestRun?.executor ?? ctx.job.machine.executor,
      devices: (ctx.job.machine.devices ?? []).map((d) => ({ id: d.id, driver: d.driver, ...(d.role ? { role: d.role } : {}) })),
    },
    timings: {
      ...Object.fromEntries(run.stages.map((s) => [s.stage, Math.round(s.durationMs)])),
      ...(ctx.guestRun?.timings.bootToReadyMs ? { bootToReadyMs: Math.round(ctx.guestRun.timings.bootToReadyMs) } : {}),
      ...(ctx.guestRun?.timings.bootToSshMs ? { bootToSshMs: Math.round(ctx.guestRun.timings.bootToSshMs) } : {}),
    },
    stages: run.stages,
    tests: (ctx.guestRun?.tests ?? []).map(({ tap: _tap, ...t }) => t),
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
  writeRunReport(run.dir);
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
  const { tree, series, job } = ctx;
  // The kernel's configuration and build as the stages ran them (a reused .config or an up-to-date build
  // reports the commands that made it).
  const ran = (id: StageId) => ctx.run.stages.find((s) => s.stage === id)?.ran ?? [];
  const kernelCommands = [...ran("kconfig"), ...ran("build")];
  if (tree && series && kernelCommands.length > 0) {
    const env = Object.entries(kernelMakeEnv(job.profile.toolchain)).map(([k, v]) => `${k}=${shellQuote(v)}`);
    if (tree.fetchArgv.length) {
      lines.push(`# the tree, fetched by the harness (once, in an empty folder with linux/ in it; then git init + commit in linux/):`);
      for (const argv of tree.fetchArgv) lines.push(`#   ${q(argv)}`);
    }
    lines.push(
      `cd ${shellQuote(tree.path)}`,
      series.patches.length
        ? `git checkout --detach ${series.head}   # ${series.patches.length} patches on ${series.base}`
        : `git checkout --detach ${series.head}`,
      `export ${env.join(" ")}`,
      ...kernelCommands.map((c) => commandLine(c, tree.path)),
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
      lines.push(`mkdir -p ${shellQuote(qemu.build.buildDir)} && cd ${shellQuote(qemu.build.buildDir)}`);
      // the devices file configure names (--with-devices-aarch64): the build dir holds it, written here too
      const devices = qemu.build.devices;
      if (devices) lines.push(`cat > ${devices.name}.mak <<'EOF'`, ...devices.text.trimEnd().split("\n"), "EOF");
      lines.push(q(qemu.build.configureArgv), q(qemu.build.ninjaArgv));
      for (const t of qemu.checks ?? []) lines.push(`QTEST_QEMU_BINARY=${shellQuote(qemu.build.binary)} ${q(t.argv)}`);
    }
  }
  // The boot line as the executor ran it, also (above all) when the boot failed.
  const guest = ctx.guestRun;
  if (guest && guest.argv.length > 0) {
    lines.push(
      `# boot (${guest.executor}; the guest prints WDH-READY once dropbear listens; the run's key is ${ctx.run.file("id_ed25519")})`,
      q(guest.argv),
      ...guest.reproduce,
    );
  }
  const file = ctx.run.file("reproduce.sh");
  writeFileSync(file, lines.join("\n") + "\n");
  chmodSync(file, 0o755);
}

/** One command as a shell line: its own environment first, in a subshell when it ran elsewhere than `here`. */
function commandLine(c: RanCommand, here: string): string {
  const env = Object.entries(c.env ?? {})
    .map(([k, v]) => `${k}=${shellQuote(v)} `)
    .join("");
  const line = `${env}${c.argv.map(shellQuote).join(" ")}`;
  return c.cwd && c.cwd !== here ? `(cd ${shellQuote(c.cwd)} && ${line})` : line;
}

export function summaryLines(ctx: Context, verdict: Verdict): string[] {
  const out: string[] = [];
  for (const t of ctx.guestRun?.tests ?? []) {
    out.push(`  ${t.status.padEnd(4)} ${t.suite}/${t.name}${t.reason && t.status !== "pass" ? `: ${t.reason}` : ""} (${(t.durationMs / 1000).toFixed(1)} s)`);
  }
  const smmu = smmuOf(ctx);
  const smmuLine = smmu && smmuSummaryLine(smmu);
  if (smmuLine) out.push(smmuLine);
  out.push(...headlineFigures(benchOf(ctx.guestRun?.tests ?? [])), `report: ${ctx.run.file("report.html")}`);
  out.push(verdictLine(verdict.outcome), ...verdict.details.slice(0, 30).map((d) => `  ${d}`));
  out.push(`run folder: ${ctx.run.dir}`);
  return out;
}
