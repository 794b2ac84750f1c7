import { describe, expect, it } from "vitest";
import { blockedSummary, parseBlockedTasks } from "./blocked.ts";

// What the guest printed for a task stuck in a queue's release while exiting (shape of 6.12's /proc/PID/stack).
const dump = [
  "== 231 bench  D (disk sleep)",
  "[<0>] __switch_to+0xe8/0x148",
  "[<0>] __schedule+0x2f4/0x8a0",
  "[<0>] schedule+0x34/0x108",
  "[<0>] schedule_timeout+0x80/0x120",
  "[<0>] wait_for_completion_killable_timeout+0x9c/0x168",
  "[<0>] vcu_ctrl_request+0x1b8/0x2b0",
  "[<0>] vcu_destroy_id+0x48/0xa0",
  "[<0>] vcu_scrub_sessions+0x90/0x178",
  "== 240 sh  D (disk sleep)",
  "[<0>] __switch_to+0xe8/0x148",
  "[<0>] __mutex_lock.constprop.0+0x1b0/0x5a8",
  "[<0>] mutex_lock+0x38/0x48",
  "[<0>] uacce_remove+0x30/0x120",
  "",
].join("\n");

describe("tasks blocked in the kernel after a test's timeout", () => {
  it("reads each task in D state with its frames", () => {
    const tasks = parseBlockedTasks(dump);
    expect(tasks.map((t) => [t.pid, t.comm, t.frames.length])).toEqual([
      [231, "bench", 8],
      [240, "sh", 4],
    ]);
  });
  it("names where each waits, past the scheduler, completion and lock frames", () => {
    expect(blockedSummary(parseBlockedTasks(dump))).toEqual([
      "bench (pid 231) in vcu_ctrl_request+0x1b8/0x2b0 < vcu_destroy_id+0x48/0xa0",
      "sh (pid 240) in uacce_remove+0x30/0x120",
    ]);
  });
  it("says nothing when no task is blocked", () => expect(parseBlockedTasks("")).toEqual([]));
});
