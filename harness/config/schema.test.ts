import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { SeriesManifestSchema, TreeSchema } from "./schema.ts";

describe("tree: { debian }", () => {
  it("alone: the installed package", () => {
    expect(v.parse(TreeSchema, { debian: "linux-source-6.12" })).toEqual({
      debian: "linux-source-6.12",
      mirror: "http://deb.debian.org/debian",
      keyring: "/usr/share/keyrings/debian-archive-keyring.gpg",
    });
  });

  it("with a suite and version: a download, Debian's mirror and keyring by default", () => {
    expect(v.parse(TreeSchema, { debian: "linux-source-7.2", version: "7.2.13-1", suite: "sid" })).toMatchObject({
      suite: "sid",
      version: "7.2.13-1",
      mirror: "http://deb.debian.org/debian",
      keyring: "/usr/share/keyrings/debian-archive-keyring.gpg",
    });
  });

  it("a suite without a version is refused, and so is a field it does not know", () => {
    const r = v.safeParse(TreeSchema, { debian: "linux-source-7.2", suite: "sid" });
    expect(r.success).toBe(false);
    expect(r.issues?.map((i) => i.message).join(" ")).toMatch(/needs its version/);
    expect(v.safeParse(TreeSchema, { debian: "linux-source-7.2", version: "7.2.13-1", suit: "sid" }).success).toBe(false);
  });
});

describe("series.yaml append:", () => {
  it("is optional and empty by default", () => {
    expect(v.parse(SeriesManifestSchema, { name: "s", base: "v6.12", patches: ["a.patch"] }).append).toEqual([]);
    expect(v.parse(SeriesManifestSchema, { name: "s", base: "v6.12", patches: ["a.patch"], append: ["x.y=1"] }).append).toEqual(["x.y=1"]);
  });
});
