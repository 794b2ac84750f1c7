// The commands: each wires steps together over one context, nothing else.
import { linkSync, copyFileSync, mkdirSync, symlinkSync } from "node:fs";
import { basename, join } from "node:path";
import { resolveJob, type Overrides } from "../config/resolve.ts";
import { realDeps } from "../lib/deps.ts";
import { createRunFolder } from "../lib/run-folder.ts";
import { passed } from "../lib/stage.ts";
import { artifactPaths, buildSteps } from "./build-steps.ts";
import { bootSteps } from "./boot-steps.ts";
import { qemuSteps } from "./qemu-steps.ts";
import type { RunManifest } from "./manifest.ts";
import type { Context, Step } from "./context.ts";

export type CommandName = "build-kernel" | "boot-test";

const artifactsStep: Step = {
  id: "artifacts",
  title: "Artifacts",
  run: async (ctx) => {
    const started = performance.now();
    const dir = ctx.run.file("artifacts");
    mkdirSync(dir, { recursive: true });
    for (const [name, path] of Object.entries(artifactPaths(ctx))) {
      const target = join(dir, name === "uapi headers" ? "include" : basename(name));
      if (name === "uapi headers") symlinkSync(path, target);
      else {
        try {
          linkSync(path, target);
        } catch {
          copyFileSync(path, target);
        }
      }
    }
    return passed("artifacts", started, null, { reason: dir });
  },
};

export function stepsFor(command: CommandName): Step[] {
  return command === "build-kernel" ? [...buildSteps, artifactsStep] : [...buildSteps, ...qemuSteps, ...bootSteps];
}

export function createContext(command: CommandName, overrides: Overrides, signal: AbortSignal): Context {
  const job = resolveJob(overrides);
  const run = createRunFolder<RunManifest>(command);
  run.set("profile", job.profile);
  return { job, run, deps: realDeps({ signal, logFile: run.file("harness.log") }) };
}
