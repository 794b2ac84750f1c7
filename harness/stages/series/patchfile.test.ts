import { describe, expect, it } from "vitest";
import { hunkAgainstTree, patchHunks, withoutGitAdvice } from "./patchfile.ts";

const PATCH = `Subject: [PATCH] demo
---
diff --git a/drivers/demo/demo.c b/drivers/demo/demo.c
--- a/drivers/demo/demo.c
+++ b/drivers/demo/demo.c
@@ -2,3 +2,3 @@ int demo;
 static int queues(void)
 {
-	return 1;
+	return 2;
`;

describe("a hunk that does not apply", () => {
  it("shows what the hunk expects next to what the tree has there", () => {
    const hunk = patchHunks(PATCH).get("drivers/demo/demo.c")![0]!;
    expect(hunk.expected).toEqual(["static int queues(void)", "{", "\treturn 1;"]);
    const tree = ["/* demo */", "static int queues(void)", "{", "\treturn 4;", "}"];
    expect(hunkAgainstTree(hunk, tree)).toEqual([
      "the hunk expects at line 2:",
      "  | static int queues(void)",
      "  | {",
      "  | \treturn 1;",
      "the tree has there:",
      "  | static int queues(void)",
      "  | {",
      "  | \treturn 4;",
    ]);
  });

  it("drops git am's advice: the harness already aborted", () => {
    const out = [
      "Applying: demo",
      "error: patch failed: drivers/demo/demo.c:2",
      "hint: Use 'git am --show-current-patch=diff' to see the failed patch",
      'When you have resolved this problem, run "git am --continue".',
      'If you prefer to skip this patch, run "git am --skip" instead.',
      'To restore the original branch and stop patching, run "git am --abort".',
      "Patch failed at 0001 demo",
    ];
    expect(withoutGitAdvice(out)).toEqual(["Applying: demo", "error: patch failed: drivers/demo/demo.c:2", "Patch failed at 0001 demo"]);
  });
});
