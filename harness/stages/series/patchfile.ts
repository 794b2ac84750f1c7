// Reading what a developer needs from a patch file: its subject and the hunks per file, so a patch that
// does not apply can be reported as "file, hunk #n" rather than a bare git error.

export interface Hunk {
  index: number; // 1-based within its file
  oldStart: number;
  header: string;
  /** What the hunk expects in the tree from oldStart on: its context and removed lines, in order. */
  expected: string[];
}

export function patchSubject(text: string): string {
  const m = /^Subject: (.*(?:\n[ \t].*)*)/m.exec(text);
  if (!m) return "(no subject)";
  return m[1]!
    .replace(/\n[ \t]+/g, " ")
    .replace(/^\[[^\]]*PATCH[^\]]*\]\s*/i, "")
    .trim();
}

/** Hunks of each file a patch touches, keyed by the new path (b/...). */
export function patchHunks(text: string): Map<string, Hunk[]> {
  const files = new Map<string, Hunk[]>();
  let current: Hunk[] | undefined;
  let oldPath: string | undefined;
  let hunk: Hunk | undefined;
  for (const line of text.split("\n")) {
    if (hunk && (line.startsWith(" ") || line.startsWith("-")) && !line.startsWith("--- ")) {
      hunk.expected.push(line.slice(1));
      continue;
    }
    if (hunk && line.startsWith("+") && !line.startsWith("+++ ")) continue;
    hunk = undefined;
    if (line.startsWith("--- ")) {
      oldPath = line.slice(4).replace(/^a\//, "");
    } else if (line.startsWith("+++ ")) {
      const path = line.slice(4).replace(/^b\//, "");
      current = [];
      files.set(path === "/dev/null" && oldPath ? oldPath : path, current);
    } else if (line.startsWith("@@ ") && current) {
      const m = /^@@ -(\d+)/.exec(line);
      hunk = { index: current.length + 1, oldStart: Number(m?.[1] ?? 0), header: line, expected: [] };
      current.push(hunk);
    }
  }
  return files;
}

export interface ApplyFailure {
  file?: string;
  line?: number;
  hunk?: Hunk;
  conflict: boolean;
  message: string;
}

/** Where `git am -3` / `git apply` output says a patch failed. */
export function parseApplyFailure(output: string, patchText: string): ApplyFailure {
  const failedAt = /error: patch failed: (.+):(\d+)/.exec(output);
  const conflict = /CONFLICT \([^)]*\): Merge conflict in (.+)/.exec(output);
  const missing = /error: (.+): (does not exist in index|No such file or directory|already exists in (?:index|working directory))/.exec(output);
  const file = failedAt?.[1] ?? conflict?.[1] ?? missing?.[1];
  const line = failedAt ? Number(failedAt[2]) : undefined;
  const hunk =
    file && line !== undefined
      ? patchHunks(patchText)
          .get(file)
          ?.find((h) => h.oldStart === line)
      : undefined;
  const message = missing
    ? `${missing[1]}: ${missing[2]}`
    : conflict
      ? `merge conflict in ${conflict[1]}`
      : failedAt
        ? `does not apply to ${file}`
        : "does not apply";
  return { file, line, hunk, conflict: Boolean(conflict), message };
}

export function describeApplyFailure(f: ApplyFailure): string {
  if (!f.file) return f.message;
  const hunk = f.hunk ? `, hunk #${f.hunk.index} (${f.hunk.header.replace(/ @@.*/, " @@")})` : f.line ? `, at line ${f.line}` : "";
  return `${f.file}${hunk}: ${f.message}`;
}

/** git's advice after a failed `git am` (continue, skip, abort): the harness already aborted. */
export function withoutGitAdvice(lines: string[]): string[] {
  return lines.filter(
    (l) =>
      !/^hint: |^When you have resolved this problem|^If you prefer to skip this patch|^To restore the original branch|git am --(continue|skip|abort)|^Use 'git am --show-current-patch/.test(
        l,
      ),
  );
}

/** The hunk's context next to what the tree has at the same place, for a hunk that did not apply. */
export function hunkAgainstTree(hunk: Hunk, treeLines: string[], max = 12): string[] {
  const from = Math.max(0, hunk.oldStart - 1);
  const width = Math.min(Math.max(hunk.expected.length, 1), max);
  const has = treeLines.slice(from, from + width);
  return [
    `the hunk expects at line ${hunk.oldStart}:`,
    ...hunk.expected.slice(0, width).map((l) => `  | ${l}`),
    `the tree has there:`,
    ...(has.length ? has.map((l) => `  | ${l}`) : ["  (the file is shorter)"]),
  ];
}
