// Where a LAVA job goes and how its artifacts get there, from the environment or a config file (never
// from the command line: the token would land in shell history, ps and reproduce.sh).
//
//   local  (default): Debian's lava-run on this machine; artifacts as file:// URLs, no server needed.
//   remote: a lab's REST API (LAVA_URL + LAVA_TOKEN, or url:/token: in the config file); the kernel and
//           ramdisk must be where the lab can fetch them: `upload:` (a shell command run with WDH_FILE
//           and WDH_NAME set) and `urlPrefix:` (where WDH_NAME is then served from).
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import * as v from "valibot";
import { UsageError } from "../../lib/errors.ts";
import { labFrom, type LavaLab } from "./rest.ts";

export const LavaConfigSchema = v.strictObject({
  mode: v.optional(v.picklist(["local", "remote"])),
  url: v.optional(v.string()),
  /** Read, never written anywhere; the file should be mode 0600. */
  token: v.optional(v.string()),
  /** Shell command that puts $WDH_FILE where the lab can fetch it as <urlPrefix>/$WDH_NAME. */
  upload: v.optional(v.string()),
  urlPrefix: v.optional(v.string()),
  /** Device type on the lab (overrides the machine file's lava.deviceType). */
  deviceType: v.optional(v.string()),
  tags: v.optional(v.array(v.string())),
  /** Time the job may wait in the lab's queue before it is canceled (infrastructure, exit 3). */
  queueMinutes: v.optional(v.number(), 60),
  pollSeconds: v.optional(v.number(), 5),
});
export type LavaConfig = v.InferOutput<typeof LavaConfigSchema>;

export type LavaSettings =
  { mode: "local"; config: LavaConfig } | { mode: "remote"; config: LavaConfig; lab: LavaLab; artifacts: { upload?: string; urlPrefix: string } };

export function configFile(env: Record<string, string | undefined>, home = homedir()): string {
  return env.WDH_LAVA_CONFIG ?? join(home, ".config", "warpdrive-harness", "lava.yaml");
}

/**
 * The settings: the config file (WDH_LAVA_CONFIG or ~/.config/warpdrive-harness/lava.yaml), then the
 * environment over it (WDH_LAVA_MODE, LAVA_URL, LAVA_TOKEN, WDH_LAVA_UPLOAD, WDH_LAVA_URL_PREFIX,
 * WDH_LAVA_DEVICE_TYPE). A lab URL makes the mode remote unless the mode says otherwise.
 */
export function lavaSettings(env: Record<string, string | undefined>, home = homedir()): LavaSettings {
  const file = configFile(env, home);
  let fromFile: LavaConfig = { queueMinutes: 60, pollSeconds: 5 };
  if (existsSync(file)) {
    const parsed = v.safeParse(LavaConfigSchema, parse(readFileSync(file, "utf8")) ?? {});
    // The issue's path and message only: the file holds the token.
    if (!parsed.success) throw new UsageError(`${file}: ${parsed.issues.map((i) => `${v.getDotPath(i) ?? "(top)"}: ${i.message}`).join("; ")}`);
    fromFile = parsed.output;
  }
  const config: LavaConfig = {
    ...fromFile,
    ...(env.LAVA_URL ? { url: env.LAVA_URL } : {}),
    ...(env.WDH_LAVA_UPLOAD ? { upload: env.WDH_LAVA_UPLOAD } : {}),
    ...(env.WDH_LAVA_URL_PREFIX ? { urlPrefix: env.WDH_LAVA_URL_PREFIX } : {}),
    ...(env.WDH_LAVA_DEVICE_TYPE ? { deviceType: env.WDH_LAVA_DEVICE_TYPE } : {}),
  };
  const { token: _token, ...safe } = config;
  const modeWord = env.WDH_LAVA_MODE ?? config.mode ?? (config.url ? "remote" : "local");
  if (modeWord !== "local" && modeWord !== "remote") throw new UsageError(`WDH_LAVA_MODE=${modeWord}: expected local or remote`);
  if (modeWord === "local") return { mode: "local", config: safe };
  const lab = config.url && (env.LAVA_TOKEN ?? fromFile.token) ? { url: config.url, token: (env.LAVA_TOKEN ?? fromFile.token)! } : labFrom(env, home);
  if (!config.urlPrefix) {
    throw new UsageError(
      `a remote LAVA lab fetches the kernel and ramdisk by URL: set urlPrefix: (and upload:, a command that puts $WDH_FILE there as $WDH_NAME) in ${file}, or WDH_LAVA_URL_PREFIX and WDH_LAVA_UPLOAD`,
    );
  }
  return { mode: "remote", config: safe, lab, artifacts: { ...(config.upload ? { upload: config.upload } : {}), urlPrefix: config.urlPrefix } };
}
