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
    throw new UsageError(`${file}: not valid YAML`, doc.errors.map((e) => e.message.split("\n")[0]!));
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
