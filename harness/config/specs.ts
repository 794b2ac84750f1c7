// The typed inputs the config hands to the stages (what a profile's tree, series and suites resolve to).
// Declared here, below the stages, so config never imports a stage (floors: lib < config < stages).
import type { AptSuite } from "../lib/apt.ts";
import type { SeriesManifest, SuiteDef } from "./schema.ts";

export type TreeSpec =
  /** Installed with the host's apt; or, with `fetch`, that exact version downloaded from a suite through a private apt configuration. */
  | { kind: "debian"; package: string; version?: string; fetch?: DebianFetch }
  | { kind: "path"; path: string }
  | { kind: "git"; url: string; ref: string; depth: number };

/** Where a linux-source package of another suite comes from (the host's apt sources are not touched). */
export interface DebianFetch extends AptSuite {
  version: string;
}

export type SourceSpec =
  | { kind: "files"; files: string[] }
  | { kind: "mbox"; file: string; version?: number }
  | { kind: "lore"; messageId: string; version?: number }
  | { kind: "git"; repo: string; range: string };

/** A series as the config names it: its manifest and where its patches come from. */
export interface SeriesSpec {
  name: string;
  dir: string;
  manifest: SeriesManifest;
  source: SourceSpec;
}

/** A guest test suite: its suite.yaml and the folder its files are in. */
export interface Suite {
  def: SuiteDef;
  dir: string;
}
