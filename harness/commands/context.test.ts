import { describe, expect, it } from "vitest";
import { need, type Context } from "./context.ts";

describe("need: an earlier step's output", () => {
  const ctx = { buildDir: "/b" } as Context;
  it("gives what an earlier step put there", () => expect(need(ctx, "buildDir")).toBe("/b"));
  it("throws a bug naming the missing key when no step put it there", () =>
    expect(() => need(ctx, "build")).toThrow(/bug: a step needs ctx\.build, which no earlier step produced/));
});
