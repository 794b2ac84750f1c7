// The SSH side of the local executor on a real SSH server (ssh2's, on 127.0.0.1) and a scripted console:
// the guest's host key is pinned (no other key is accepted), and an SSH connection that drops is judged by
// what the console shows: the kernel's report makes it the kernel's death, nothing makes it infrastructure.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Server, type Connection } from "ssh2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createExec } from "../../lib/exec.ts";
import { repoRoot } from "../../lib/paths.ts";
import { SshSession, type SshTarget } from "../../lib/ssh.ts";
import type { Deps } from "../../lib/stage.ts";
import type { GuestTest } from "../../stages/guest/suites.ts";
import { ConsoleTriage } from "../../stages/triage/triage.ts";
import type { GuestEnd, LiveGuest } from "./boot.ts";
import { runGuestTests } from "./guest-tests.ts";

const dir = mkdtempSync(join(tmpdir(), "wdh-ssh-"));
const keygen = (name: string) => {
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, name)]);
  return { priv: readFileSync(join(dir, name)), pub: readFileSync(join(dir, `${name}.pub`), "utf8").trim() };
};
let host: ReturnType<typeof keygen>;
let other: ReturnType<typeof keygen>;
let server: Server;
let port = 0;
/** What the server does with the next command that names a scenario. */
const onCommand: { drop?: () => void } = {};
const connections: Connection[] = [];

beforeAll(async () => {
  [host, other] = [keygen("host"), keygen("other")];
  keygen("client"); // the harness's own key: any is accepted
  server = new Server({ hostKeys: [host.priv] }, (conn) => {
    connections.push(conn);
    conn.on("authentication", (ctx) => (ctx.method === "publickey" ? ctx.accept() : ctx.reject(["publickey"])));
    conn.on("error", () => {});
    conn.on("session", (accept) => {
      accept().on("exec", (acceptExec, _reject, info) => {
        const stream = acceptExec();
        if (info.command.includes("drops-ssh")) {
          // the guest's side of the connection goes away under the running test
          onCommand.drop?.();
          (conn as unknown as { _sock: { destroy(): void } })._sock.destroy();
          return;
        }
        if (info.command.includes("goes-silent")) {
          // the guest stops answering altogether (a CPU locked with interrupts off): nothing is read or
          // written on this connection any more, not even the close of this channel
          (conn as unknown as { _sock: { pause(): void } })._sock.pause();
          return;
        }
        stream.write("1..1\nok 1 - passes\n");
        stream.exit(0);
        stream.end();
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => {
  connections.forEach((c) => c.end());
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

const target = (pinnedHostKey: string): SshTarget => ({ host: "127.0.0.1", port, user: "root", privateKeyFile: join(dir, "client"), pinnedHostKey });

describe("the guest's host key is pinned", () => {
  it("connects to the key the console printed, and runs a command", async () => {
    const session = await SshSession.connect(target(host.pub), 10_000);
    const r = await session.run("true", 5000);
    session.close();
    expect(r).toMatchObject({ exitCode: 0, stdout: "1..1\nok 1 - passes\n", timedOut: false });
  });

  it("accepts no other key: a server with another key is refused before authentication", async () => {
    await expect(SshSession.connect(target(other.pub), 10_000)).rejects.toThrow(
      "the guest's SSH host key is not the one it printed on its console: refusing to connect",
    );
  });
});

/** A guest that is up: its console is what the test pushes into it; it ends when told. */
function fakeGuest() {
  const triage = new ConsoleTriage();
  const lines: string[] = [];
  let end!: (e: GuestEnd) => void;
  const ended = new Promise<GuestEnd>((r) => (end = r));
  const push = (l: string) => {
    lines.push(l);
    triage.feed(l);
  };
  const guest = {
    argv: [],
    sshPort: port,
    hostKey: host.pub,
    triage,
    lines,
    readyMs: 1,
    ended,
    waitForLine: async () => undefined,
    shutdown: async () => {},
  } as LiveGuest;
  return { guest, push, end };
}

const test = (name: string): GuestTest => ({ suite: "ssh", name, guestPath: `/opt/wdh/ssh/${name}`, command: [`./${name}`], timeoutSeconds: 5 });
const deps: Deps = { exec: createExec(), signal: new AbortController().signal, progress: () => {} };
const panic = readFileSync(join(repoRoot, "test/fixtures/console/test-panic-lkdtm.log"), "utf8").split("\n");

describe("SSH lost under a test", () => {
  it("with the kernel's panic on the console: that test failed because the kernel died, the next is not run", async () => {
    const { guest, push, end } = fakeGuest();
    onCommand.drop = () => {
      panic.forEach(push);
      end({ kind: "exited", exitCode: 0 });
    };
    const session = await SshSession.connect(target(host.pub), 10_000);
    const r = await runGuestTests({ guest, session, tests: [test("passes"), test("drops-ssh"), test("after")], testScale: 1 }, deps);
    session.close();
    expect(r.status).toBe("fail");
    expect(r.kind).toBeUndefined(); // a regression: the kernel's own report says so
    expect(r.output!.map((t) => `${t.name}:${t.status}`)).toEqual(["passes:pass", "drops-ssh:fail", "after:skip"]);
    expect(r.output![1]!.reason).toMatch(/^the kernel died: Kernel panic - not syncing/);
    expect(r.output![2]!.reason).toBe("not run (the kernel died in ssh/drops-ssh)");
  });

  it("with nothing on the console and QEMU still running: infrastructure, never a kernel regression", async () => {
    const { guest } = fakeGuest();
    onCommand.drop = undefined;
    const session = await SshSession.connect(target(host.pub), 10_000);
    const r = await runGuestTests({ guest, session, tests: [test("drops-ssh"), test("after")], testScale: 1 }, deps);
    session.close();
    expect(r.status).toBe("fail");
    expect(r.kind).toBe("infrastructure");
    expect(r.reason).toMatch(/^SSH lost \(.*\) during ssh\/drops-ssh, and the console shows no kernel report \(QEMU still running\)$/);
    expect(r.output!.map((t) => `${t.name}:${t.status}`)).toEqual(["drops-ssh:error", "after:skip"]);
  }, 30_000);

  it("a guest that stops answering: the test times out and the run stops, without waiting on the guest's side", async () => {
    const { guest } = fakeGuest();
    const session = await SshSession.connect(target(host.pub), 10_000);
    // before the fix this never returned: the channel's close, then the alive check's opening, waited on the guest
    const r = await runGuestTests({ guest, session, tests: [test("goes-silent"), test("after")], testScale: 0.2 }, deps);
    session.close();
    expect(r.output!.map((t) => `${t.name}:${t.status}`)).toEqual(["goes-silent:fail", "after:skip"]);
    expect(r.output![0]!.reason).toBe("timed out after 1 s; nothing on the console; the guest no longer answers");
  }, 40_000);
});
