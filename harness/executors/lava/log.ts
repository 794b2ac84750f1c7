// A LAVA job log (lava-run's stdout, or a lab's /logs/: one YAML flow mapping per line, {dt, lvl, msg})
// read back into what the harness knows: the serial console as it arrived (for the same triage as a local
// boot), the guest tests' results with their measurements, and how the job ended.
import { parse } from "yaml";

export interface LavaLogLine {
  dt?: string;
  lvl: string;
  msg: unknown;
}

export interface LavaCase {
  /** The test definition LAVA ran it in: "0_baseline" (lava-run) or "baseline"; "lava" for LAVA's own. */
  definition: string;
  case: string;
  result: "pass" | "fail" | "skip" | "unknown";
  measurement?: number;
  units?: string;
  /** Extra LAVA recorded (errors of its own actions). */
  extra?: Record<string, unknown>;
}

export interface LavaJobLog {
  /** The guest's serial console, one line per entry, as it arrived. */
  console: string[];
  /** Results of the test definitions (the guest tests, their TAP points and metrics). */
  cases: LavaCase[];
  /** LAVA's own results (validate, deploy, boot, login, the job). */
  lavaCases: LavaCase[];
  /** "pass" when LAVA says the job finished correctly; otherwise the job is incomplete. */
  job: "pass" | "fail" | "unknown";
  /** LAVA's errors ("lvl: error" and the job's error_msg), for the reason line. */
  errors: string[];
  /** LAVA's class of the job's failure: Infrastructure, Bug, Configuration, Job, Test, LAVATimeout... */
  errorType?: string;
}

/** One log line; lava-run writes YAML (e.g. `! "417"` tags), which is not always JSON. */
export function parseLogLine(line: string): LavaLogLine | undefined {
  const text = line.trim();
  if (!text.startsWith("{") && !text.startsWith("- {")) return undefined;
  try {
    const value = parse(text.startsWith("- ") ? text.slice(2) : text) as LavaLogLine | null;
    return value && typeof value === "object" && typeof value.lvl === "string" ? value : undefined;
  } catch {
    return undefined;
  }
}

const RESULT = new Set(["pass", "fail", "skip", "unknown"]);

export function parseLavaLog(text: string | LavaLogLine[]): LavaJobLog {
  const lines = typeof text === "string" ? text.split("\n").flatMap((l) => parseLogLine(l) ?? []) : text;
  const out: LavaJobLog = { console: [], cases: [], lavaCases: [], job: "unknown", errors: [] };
  for (const { lvl, msg } of lines) {
    if (lvl === "target" && typeof msg === "string") {
      // LAVA's own markers on the console are not the kernel's or the tests' words.
      if (!/^<LAVA_(SIGNAL|TEST_RUNNER)/.test(msg)) out.console.push(msg.replace(/\r$/, ""));
    } else if (lvl === "error" && typeof msg === "string") out.errors.push(msg);
    else if (lvl === "results" && msg && typeof msg === "object") {
      const m = msg as Record<string, unknown>;
      const result = String(m.result ?? "unknown");
      const c: LavaCase = {
        definition: String(m.definition ?? ""),
        case: String(m.case ?? ""),
        result: (RESULT.has(result) ? result : "unknown") as LavaCase["result"],
        ...(m.measurement !== undefined && m.measurement !== "" ? { measurement: Number(m.measurement) } : {}),
        ...(m.units !== undefined && m.units !== "none" ? { units: String(m.units) } : {}),
        ...(m.extra && typeof m.extra === "object" ? { extra: m.extra as Record<string, unknown> } : {}),
      };
      if (c.definition === "lava") {
        out.lavaCases.push(c);
        if (c.case === "job") {
          out.job = c.result === "pass" ? "pass" : "fail";
          // lava-run 2023.01 puts error_msg/error_type on the result itself; a lab's API under extra.
          const err = m.error_msg ?? c.extra?.error_msg;
          if (typeof err === "string" && !out.errors.includes(err)) out.errors.push(err);
          const type = m.error_type ?? c.extra?.error_type;
          if (typeof type === "string") out.errorType = type;
        }
      } else out.cases.push(c);
    }
  }
  return out;
}

/** A guest test as LAVA reported it: its own case, its TAP points ("<test>.<n>") and metrics. */
export interface LavaTestOutcome {
  suite: string;
  name: string;
  status: "pass" | "fail" | "skip";
  points: LavaCase[];
  metrics: Record<string, { value: number; unit: string }>;
}

/**
 * The outcome of each planned test: its case if LAVA recorded one, "skip" (not run) if not, e.g. when the
 * kernel died or the job timed out first.
 */
export function testOutcomes(log: LavaJobLog, planned: { suite: string; name: string }[], id: (s: string) => string): LavaTestOutcome[] {
  return planned.map(({ suite, name }) => {
    const inSuite = log.cases.filter((c) => c.definition.replace(/^\d+_/, "") === id(suite));
    const own = inSuite.find((c) => c.case === id(name));
    const children = inSuite.filter((c) => c.case.startsWith(`${id(name)}.`));
    const metrics: LavaTestOutcome["metrics"] = {};
    for (const c of children) if (c.measurement !== undefined) metrics[c.case.slice(id(name).length + 1)] = { value: c.measurement, unit: c.units ?? "" };
    return {
      suite,
      name,
      status: own ? (own.result === "pass" ? "pass" : own.result === "skip" ? "skip" : "fail") : "skip",
      points: children.filter((c) => c.measurement === undefined),
      metrics,
    };
  });
}
