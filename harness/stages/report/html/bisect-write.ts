// The bisection's report.html, with the first bad commit's diff kept beside it (culprit.patch): the
// report must still show it when the tree has moved on or is on another machine.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { gitOut } from "../../../lib/git.ts";
import type { Exec } from "../../../lib/exec.ts";
import { writeBisectReport } from "./write.ts";

export async function writeBisectHtml(dir: string, culprit: string | undefined, treeDir: string, exec: Exec): Promise<string> {
  let diff: string | undefined;
  if (culprit) {
    try {
      diff = await gitOut(exec, treeDir, ["show", "--stat", "--patch", "--format=commit %H%nAuthor: %an <%ae>%nDate:   %ad%n%n%w(0,4,4)%B", culprit]);
      writeFileSync(join(dir, "culprit.patch"), diff + "\n");
    } catch {
      diff = undefined; // the report says the diff is missing
    }
  }
  return writeBisectReport(dir, diff);
}
