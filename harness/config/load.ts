// Loading YAML config with line numbers in its errors: a bad profile is a usage error (exit 2) that
// names the file, the line and the field.
import { existsSync, readFileSync } from "node:fs";
import * as v from "valibot";
import { isMap, isSeq, LineCounter, parseDocument, type Node } from "yaml";
import { UsageError } from "../lib/errors.ts";

export function loadYaml<S extends v.GenericSchema>(schema: S, file: string): v.InferOutput<S> {
  if (!existsSync(file)) throw new UsageError(`${file} does not exist`);
  return parseYaml(schema, readFileSync(file, "utf8"), file);
}

export function parseYaml<S extends v.GenericSchema>(schema: S, text: string, file: string): v.InferOutput<S> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true });
  if (doc.errors.length > 0) {
    // file:line:column first, as a compiler says it (editors jump there); then YAML's own excerpt.
    const where = (e: (typeof doc.errors)[number]) => (e.linePos ? `${file}:${e.linePos[0].line}:${e.linePos[0].col}` : file);
    const what = (e: (typeof doc.errors)[number]) => e.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
    const first = doc.errors[0]!;
    throw new UsageError(`${where(first)}: not valid YAML: ${what(first)}`, [
      ...doc.errors.slice(1).map((e) => `${where(e)}: ${what(e)}`),
      ...first.message
        .split("\n")
        .slice(1)
        .filter((l) => l.trim() !== ""),
    ]);
  }
  const result = v.safeParse(schema, doc.toJS());
  if (result.success) return result.output;
  const problems = result.issues.map((issue) => {
    const path = (issue.path ?? []).map((p) => p.key as string | number);
    const node = nodeAt(doc.contents, path);
    const where = node?.range ? `:${lineCounter.linePos(node.range[0]).line}` : "";
    return `${file}${where}: ${path.join(".") || "(top)"}: ${issue.message}`;
  });
  throw new UsageError(`${file}: ${problems.length} problem(s)`, problems);
}

function nodeAt(node: unknown, path: (string | number)[]): Node | undefined {
  let current = node as Node | undefined;
  for (const key of path) {
    if (isMap(current)) current = current.get(key, true) as Node | undefined;
    else if (isSeq(current)) current = current.get(Number(key), true) as Node | undefined;
    else break;
  }
  return current;
}
