import { describe, expect, it } from "vitest";
import { chooseRenderer } from "./renderer.ts";

describe("chooseRenderer", () => {
  it("shows the live list only on a terminal outside CI", () => {
    expect(chooseRenderer({ isTTY: true, ci: false, quiet: false })).toBe("default");
    expect(chooseRenderer({ isTTY: true, ci: true, quiet: false })).toBe("simple");
    expect(chooseRenderer({ isTTY: false, ci: false, quiet: false })).toBe("simple");
    expect(chooseRenderer({ isTTY: true, ci: false, quiet: true })).toBe("simple");
    expect(chooseRenderer({ isTTY: true, ci: false, quiet: false, silent: true })).toBe("silent");
  });
});
