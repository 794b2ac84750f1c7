// Tasks blocked in the kernel, as a guest lists them after a test outlived its timeout without the
// console saying why (the hung-task detector reports only after 120 s in D state, and never a killable
// wait): each task in D state with its /proc/<pid>/stack. Reading it is pure; the executor runs the
// command. The summary names the first frame that is not the scheduler's or a lock's own.

/** Shell (busybox sh) that prints "== <pid> <comm> <state>" and the stack of every task in D state. */
export const BLOCKED_TASKS_COMMAND = [
  "for p in /proc/[0-9]*; do",
  "s=$(grep '^State:' $p/status 2>/dev/null);",
  'case "$s" in *D*) echo "== ${p#/proc/} $(cat $p/comm 2>/dev/null) ${s#State:}"; cat $p/stack 2>/dev/null;; esac;',
  "done; true",
].join(" ");

export interface BlockedTask {
  pid: number;
  comm: string;
  /** Frames as /proc/<pid>/stack gives them: "vcu_reset_queue+0x1a4/0x3c0". */
  frames: string[];
}

const HEADER = /^== (\d+) (\S+)/;
const FRAME = /^\[<[0-9a-f]+>\] (\S+)/;
/** Frames that say how a task waits, not where: the scheduler, completions, locks, sleeping. */
const WAITING =
  /^(__switch_to|__schedule|schedule\w*|io_schedule\w*|\w*wait_for_\w+|\w*mutex_lock\w*|\w*rwsem\w*|\w*down_\w+|msleep\w*|usleep\w*|\w*sleep_on\w*|__wait\w*|rt_mutex\w*)(\.[\w.]+)?(\+|$)/;

export function parseBlockedTasks(text: string): BlockedTask[] {
  const tasks: BlockedTask[] = [];
  for (const line of text.split("\n")) {
    const h = HEADER.exec(line);
    if (h) {
      tasks.push({ pid: Number(h[1]), comm: h[2]!, frames: [] });
      continue;
    }
    const f = FRAME.exec(line.trim());
    if (f && tasks.length > 0) tasks[tasks.length - 1]!.frames.push(f[1]!);
  }
  return tasks;
}

/** "bench (pid 231) in vcu_reset_queue+0x1a4/0x3c0 < vcu_put_queue+0x2c/0x60", one per task. */
export function blockedSummary(tasks: BlockedTask[]): string[] {
  return tasks.map((t) => {
    const where = t.frames.filter((f) => !WAITING.test(f)).slice(0, 2);
    return `${t.comm} (pid ${t.pid})${where.length ? ` in ${where.join(" < ")}` : t.frames.length ? ` in ${t.frames[0]}` : ""}`;
  });
}
