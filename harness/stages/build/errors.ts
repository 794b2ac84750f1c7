// The first compiler and linker errors of a build log, with file:line, for the failure message.

export interface BuildError {
  file?: string;
  line?: number;
  column?: number;
  message: string;
  /** The log line it came from. */
  raw: string;
}

const COMPILER = /^([^\s:][^:]*):(\d+):(?:(\d+):)? (?:fatal )?error: (.*)$/;
const LINKER = /^(?:.*?ld(?:\.bfd)?: )?([^\s:][^:]*?)(?::\(\S+\))?: (undefined reference to .*|multiple definition of .*)$/;
const MAKE = /^make\[\d+\]: \*\*\* .*Error \d+|^make: \*\*\* .*Error \d+/;
const KBUILD = /^(ERROR|error): (.*)$/;

/**
 * The first errors of a build log. `root` (the tree) is cut from paths so they read as in the tree;
 * gcc's typographic quotes (it uses them in a UTF-8 locale, and Kbuild unexports LC_ALL) become plain.
 */
export function firstBuildErrors(log: string, max = 5, root?: string): BuildError[] {
  const errors: BuildError[] = [];
  const prefix = root ? `${root.replace(/\/$/, "")}/` : undefined;
  for (const line of log.split("\n")) {
    const raw = (prefix ? line.replaceAll(prefix, "") : line).replace(/[\u2018\u2019]/g, "'");
    if (errors.length >= max) break;
    const c = COMPILER.exec(raw);
    if (c) {
      errors.push({ file: c[1], line: Number(c[2]), column: c[3] ? Number(c[3]) : undefined, message: c[4]!, raw });
      continue;
    }
    const l = LINKER.exec(raw);
    if (l) {
      errors.push({ file: l[1], message: l[2]!, raw });
      continue;
    }
    const k = KBUILD.exec(raw);
    if (k) errors.push({ message: k[2]!, raw });
  }
  if (errors.length === 0) {
    const makeLine = log.split("\n").find((l) => MAKE.test(l));
    if (makeLine) errors.push({ message: makeLine, raw: makeLine });
  }
  return errors;
}

export function describeBuildError(e: BuildError): string {
  const where = e.file ? `${e.file}${e.line ? `:${e.line}` : ""}${e.column ? `:${e.column}` : ""}: ` : "";
  return `${where}${e.message}`;
}
