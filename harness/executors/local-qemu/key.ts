// The run's SSH key: made per run in the run folder; the guest gets the public half on the kernel
// command line (the initramfs's init writes it to root's authorized_keys), so one initramfs serves every run.
import { readFileSync } from "node:fs";
import type { Deps } from "../../lib/stage.ts";

/** `wdh.authorized_key=TYPE:BASE64`: no spaces, nothing a shell or the kernel's parser would split. */
export function authorizedKeyParam(publicKey: string): string {
  const [type, key] = publicKey.trim().split(/\s+/);
  if (!type || !key || !/^[\w.@-]+$/.test(type) || !/^[A-Za-z0-9+/=]+$/.test(key)) throw new Error(`not an OpenSSH public key: ${publicKey.slice(0, 40)}`);
  return `wdh.authorized_key=${type}:${key}`;
}

/** Makes the key pair at `keyFile` (and `.pub`); returns the kernel parameter that hands it to the guest. */
export async function makeRunKey(keyFile: string, comment: string, deps: Pick<Deps, "exec" | "signal">): Promise<string> {
  await deps.exec("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", keyFile], { signal: deps.signal });
  return authorizedKeyParam(readFileSync(`${keyFile}.pub`, "utf8"));
}
