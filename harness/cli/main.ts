// The CLI: parse arguments, run one command, map the outcome to an exit code. The single top-level
// error handler lives here; signals are ours (listr2 does not register its own).
import { existsSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { pruneRuns, replayContext, replaySteps } from "../commands/replay.ts";
import { Command, Option } from "commander";
import { ExitCode, exitCodeFor, HarnessError, UsageError } from "../lib/errors.ts";
import { killAllChildren } from "../lib/exec.ts";
import { createContext, stepsFor, type CommandName } from "../commands/jobs.ts";
import { finishRun, summaryLines } from "../commands/finish.ts";
import type { AdHocSeries, Overrides } from "../config/resolve.ts";
import { chooseRenderer } from "./renderer.ts";
import { runSteps } from "../commands/run-steps.ts";
import { parseHunt, runBisectCommand, runBisectStep } from "../commands/bisect.ts";
import { safeStepExit } from "../stages/bisect/step-exit.ts";
import { exitAfterSubmission, submitRunKcidb } from "../stages/report/kcidb-submit.ts";

const list = (v: string, prev: string[] = []) => [...prev, ...v.split(",").filter(Boolean)];
const count = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`expected a whole number, got ${v}`);
  return n;
};
const positive = (v: string) => {
  const n = count(v);
  if (n < 1) throw new UsageError(`expected a number >= 1, got ${v}`);
  return n;
};

/** `git bisect run` aborts the whole bisection on an exit code above 127: a step command never gives one. */
const stepMode = process.argv[2] === "bisect-step";
function exitWith(code: number): never {
  process.exit(stepMode ? safeStepExit(code) : code);
}

function jobOptions(cmd: Command): Command {
  return cmd
    .option("--profile <name>", "profile under profiles/ (or a YAML file; default: profiles/default.yaml)")
    .option("--tree <path>", "use this git kernel tree instead of the profile's")
    .option("--series <name>", "patch series under patches/ (or a folder), repeatable; replaces the profile's", list)
    .option("--no-series", "apply no series")
    .option("--mbox <file>", "also apply the [PATCH vN m/n] series in this mbox (newest complete version)", list)
    .option("--lore <message-id>", "also apply the series of this lore thread (fetched once, then cached)", list)
    .option("--range <[repo:]base..tip>", "also apply these commits of a local git repository (default: the current directory)", list)
    .option("--series-version <n>", "with --mbox/--lore: take version n instead of the newest complete one", positive)
    .option("--ignore-base", "apply a series even to a tree that is not the base its manifest names")
    .option("--offline", "never fetch: lore threads and git trees only from the cache")
    .addOption(
      new Option("--checkpatch <mode>", "checkpatch.pl over each patch: report, enforce (errors stop the run) or off").choices(["off", "report", "enforce"]),
    )
    .option("--fragments <name>", "Kconfig fragments under kernel-config/ (or files), repeatable; replaces the profile's", list)
    .option("--machine <name>", "machine under qemu/ (or a YAML file)")
    .option("--qemu <binary>", "run this qemu-system-aarch64 instead of the machine's (no QEMU build)")
    .option("--qemu-tree <path>", "build this QEMU git tree as it is (HEAD plus local changes) instead of the machine's source and series")
    .option("--tests <suite>", "guest test suites under guest-tests/, repeatable", list)
    .option(
      "--executor <name>",
      "where the guest runs instead of the machine's executor: local-qemu or lava (lab and token from LAVA_URL/LAVA_TOKEN or the LAVA config file)",
    )
    .option("--kcidb-submit <url>", "send the run's kcidb.json to this KCIDB REST endpoint (token from WDH_KCIDB_TOKEN)")
    .addOption(new Option("--quiet", "plain progress lines even on a terminal"));
}

/** Runs a command with our signal handling: the first Ctrl-C aborts (children killed), the second exits. */
async function runWithSignals(fn: (signal: AbortSignal) => Promise<number>): Promise<number> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupts++;
    process.stderr.write(`\n${sig}: stopping (QEMU and make are killed with their process groups)\n`);
    controller.abort();
    if (interrupts > 1) {
      killAllChildren("SIGKILL");
      exitWith(ExitCode.interrupted);
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const code = await fn(controller.signal);
  return controller.signal.aborted ? ExitCode.interrupted : code;
}

function overridesFrom(opts: Record<string, unknown>): Overrides {
  return {
    profile: opts.profile as string | undefined,
    tree: opts.tree as string | undefined,
    series: opts.series === false ? [] : (opts.series as string[] | undefined),
    fragments: opts.fragments as string[] | undefined,
    machine: opts.machine as string | undefined,
    tests: opts.tests as string[] | undefined,
    adHoc: adHocSeries(opts),
    ignoreBase: Boolean(opts.ignoreBase),
    offline: Boolean(opts.offline),
    checkpatch: opts.checkpatch as Overrides["checkpatch"],
    qemu: opts.qemu as string | undefined,
    qemuTree: opts.qemuTree as string | undefined,
    executor: opts.executor as string | undefined,
  };
}

function rendererFor(opts: Record<string, unknown>) {
  return chooseRenderer({ isTTY: Boolean(process.stdout.isTTY), ci: Boolean(process.env.CI), quiet: Boolean(opts.quiet) });
}

function runCommand(command: CommandName, opts: Record<string, unknown>): Promise<number> {
  return runWithSignals(async (signal) => {
    const ctx = createContext(command, overridesFrom(opts), signal);
    ctx.commandLine = commandLine();
    await runSteps(stepsFor(command), ctx, rendererFor(opts));
    const verdict = finishRun(ctx, command);
    for (const line of summaryLines(ctx, verdict)) process.stdout.write(`${line}\n`);
    if (opts.kcidbSubmit) {
      const sent = await submitRunKcidb(ctx.run.dir, String(opts.kcidbSubmit), process.env, signal);
      process.stdout.write(`${sent.line}\n`);
      return exitAfterSubmission(verdict.exitCode, sent);
    }
    return verdict.exitCode;
  });
}

function adHocSeries(opts: Record<string, unknown>): AdHocSeries[] {
  const version = opts.seriesVersion as number | undefined;
  const mboxes = ((opts.mbox as string[] | undefined) ?? []).map((mbox) => ({ mbox, version }));
  const lore = ((opts.lore as string[] | undefined) ?? []).map((id) => ({ lore: id, version }));
  const ranges = ((opts.range as string[] | undefined) ?? []).map((value) => {
    const m = /^(?:(.+):)?([^:]+\.\.[^:]*)$/.exec(value);
    if (!m) throw new UsageError(`--range ${value}: expected [repo:]base..tip`);
    return { git: m[1] ?? process.cwd(), range: m[2]! };
  });
  return [...mboxes, ...lore, ...ranges];
}

/**
 * The command line as typed, for reproduce.sh: `npm run <command> -- <args>`, every argument that names
 * an existing file or folder made absolute (we run in the folder the user typed it in, see main).
 */
function commandLine(): string[] {
  const [command, ...args] = process.argv.slice(2);
  const absolute = (a: string) => (!a.startsWith("-") && !isAbsolute(a) && existsSync(a) ? resolve(a) : a);
  return [
    "npm",
    "run",
    command!,
    "--",
    ...args.map((a) => (a.includes("=") && a.startsWith("--") ? a.replace(/=(.*)$/, (_, v: string) => `=${absolute(v)}`) : absolute(a))),
  ];
}

async function main(argv: string[]): Promise<number> {
  // `npm run` starts us in the package's folder; relative paths on the command line (--tree ../linux,
  // --mbox ./x.mbox, --range's repository) mean the folder the user typed them in.
  if (process.env.INIT_CWD && existsSync(process.env.INIT_CWD)) process.chdir(process.env.INIT_CWD);
  const program = new Command("wdh")
    .description("warpdrive-harness: apply a series, build arm64, boot behind an SMMUv3, test over SSH")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  let exitCode: number = ExitCode.ok;
  jobOptions(program.command("build-kernel").description("tree + series + Kconfig + build; artifacts and manifest.json")).action(async (opts) => {
    exitCode = await runCommand("build-kernel", opts);
  });
  jobOptions(program.command("boot-test").description("build when needed, then boot under QEMU and run the guest tests over SSH")).action(async (opts) => {
    exitCode = await runCommand("boot-test", opts);
  });
  const bisectOptions = (cmd: Command) =>
    cmd
      .addOption(new Option("--hunt <what>", "what counts as bad: auto (what failed at the bad end), build, boot, test or test:<suite/test>").default("auto"))
      .option("--runs <n>", "runs per point; a failure counts only when it reproduces (needs >= 2 of n)", positive, 1)
      .option("--retries <n>", "retries of a point whose run failed for infrastructure reasons before it is skipped", count, 2);
  bisectOptions(
    jobOptions(program.command("bisect").description("find the first bad commit (--good/--bad over --tree) or the first bad patch of the series"))
      .option("--good <ref>", "a commit that passes (tree bisection)")
      .option("--bad <ref>", "a commit that fails (tree bisection)")
      .option("--no-compare-signatures", "blame any failure of the hunted kind, not only the one seen at the bad end"),
  ).action(async (opts) => {
    exitCode = await runWithSignals(async (signal) =>
      runBisectCommand(
        overridesFrom(opts),
        {
          good: opts.good,
          bad: opts.bad,
          hunt: parseHunt(opts.hunt),
          runs: opts.runs,
          infraRetries: opts.retries,
          compareSignatures: opts.compareSignatures !== false,
        },
        signal,
        rendererFor(opts),
        (line: string) => process.stdout.write(`${line}\n`),
      ),
    );
  });
  bisectOptions(
    jobOptions(
      program.command("bisect-step").description("judge the tree as it is checked out, for `git bisect run`: exits 0 good, 1 bad, 125 skip, nothing else"),
    ).option("--signature <text>", "only a failure with this signature is bad (another one is skip)"),
  ).action(async (opts) => {
    exitCode = await runWithSignals(async (signal) =>
      runBisectStep(
        overridesFrom(opts),
        { hunt: parseHunt(opts.hunt), runs: opts.runs, infraRetries: opts.retries, signature: opts.signature },
        signal,
        rendererFor(opts),
        (line: string) => process.stdout.write(`${line}\n`),
      ),
    );
  });
  program
    .command("replay")
    .description("boot exactly what a run folder records (kernel, initramfs, QEMU from the store) and run its guest tests again, no build")
    .argument("<run-folder>", "runs/<id> of the run to replay")
    .addOption(new Option("--quiet", "plain progress lines even on a terminal"))
    .action(async (runDir: string, opts) => {
      exitCode = await runWithSignals(async (signal) => {
        const ctx = replayContext(runDir, signal);
        ctx.commandLine = commandLine();
        await runSteps(replaySteps, ctx, rendererFor(opts));
        const verdict = finishRun(ctx, "replay");
        for (const line of summaryLines(ctx, verdict)) process.stdout.write(`${line}\n`);
        return verdict.exitCode;
      });
    });
  program
    .command("prune")
    .description("delete all but the newest run folders, and the stored artifacts no kept run names")
    .option("--keep <n>", "run folders to keep", count, 20)
    .action((opts) => {
      const r = pruneRuns(opts.keep as number);
      process.stdout.write(
        `kept ${r.kept.length} run folders; removed ${r.removedRuns.length} run folders and ${r.removedArtifacts.length} stored artifacts (${(r.bytes / 2 ** 20).toFixed(1)} MiB)\n`,
      );
    });
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e && typeof e === "object" && "exitCode" in e && "code" in e && String((e as { code: string }).code).startsWith("commander.")) {
      const code = (e as { exitCode: number }).exitCode;
      return code === 0 ? 0 : ExitCode.usage;
    }
    throw e;
  }
  return exitCode;
}

main(process.argv)
  .then((code) => exitWith(code))
  .catch((e: unknown) => {
    process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    if (e instanceof HarnessError) for (const d of e.details) process.stderr.write(`  ${d}\n`);
    else if (e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
    killAllChildren("SIGKILL");
    exitWith(exitCodeFor(e));
  });
