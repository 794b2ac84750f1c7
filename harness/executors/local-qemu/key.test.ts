import { describe, expect, it } from "vitest";
import { authorizedKeyParam } from "./key.ts";

describe("the run's key", () => {
  it("the run's SSH key travels on the kernel command line as TYPE:BASE64", () => {
    expect(authorizedKeyParam("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFoo+bar/= wdh-run\n")).toBe(
      "wdh.authorized_key=ssh-ed25519:AAAAC3NzaC1lZDI1NTE5AAAAIFoo+bar/=",
    );
    expect(() => authorizedKeyParam("ssh-ed25519 AAAA rm -rf; x")).not.toThrow();
    expect(() => authorizedKeyParam("ssh-ed25519 AAAA$(reboot)")).toThrow(/not an OpenSSH public key/);
  });
});
