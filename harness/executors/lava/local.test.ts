import { describe, expect, it } from "vitest";
import { localJobId } from "./local.ts";

describe("localJobId: lava-run's job id, which names its download folder", () => {
  it("differs between the jobs of one process (a bisection's parallel repeats)", () => {
    const ids = new Set(Array.from({ length: 50 }, () => localJobId(4242)));
    expect(ids.size).toBe(50);
  });
  it("differs between processes, and is a number as lava-server's ids are", () => {
    const a = localJobId(101);
    const b = localJobId(102);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^\d+$/);
  });
});
