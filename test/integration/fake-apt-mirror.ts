// A Debian source mirror on 127.0.0.1 for tests: a source package made with the real dpkg-source from a
// fixture folder, indexed with dpkg-scansources, a Release file listing the index, served over HTTP.
// apt-get reads it like deb.debian.org (unsigned, so the harness is told to trust it).
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { join, normalize } from "node:path";
import type { Exec } from "../../harness/lib/exec.ts";

export interface FakeMirror {
  url: string;
  root: string;
  /** Requests seen, to tell a cached run from one that fetched. */
  requests: string[];
  close(): Promise<void>;
}

/** Builds `<name>_<version>` from `fixture` (with its debian/ folder) into a mirror under `root`. */
export async function fakeSourceMirror(exec: Exec, fixture: string, root: string, pkg: { name: string; upstream: string; suite: string }): Promise<FakeMirror> {
  const work = join(root, "build");
  const srcDir = join(work, `${pkg.name}-${pkg.upstream}`);
  mkdirSync(work, { recursive: true });
  cpSync(fixture, srcDir, { recursive: true });
  // The upstream tarball has no debian/ folder, as Debian's .orig.tar.xz files do not.
  await exec("tar", ["-cJf", join(work, `${pkg.name}_${pkg.upstream}.orig.tar.xz`), "--exclude=debian", "-C", work, `${pkg.name}-${pkg.upstream}`]);
  await exec("dpkg-source", ["-b", `${pkg.name}-${pkg.upstream}`], { cwd: work });
  const pool = join(root, "pool", "main", pkg.name[0]!, pkg.name);
  mkdirSync(pool, { recursive: true });
  for (const file of readdirSync(work)) if (file.startsWith(`${pkg.name}_`)) cpSync(join(work, file), join(pool, file));
  const sources = (await exec("dpkg-scansources", ["pool"], { cwd: root })).stdout;
  const dist = join(root, "dists", pkg.suite);
  mkdirSync(join(dist, "main", "source"), { recursive: true });
  const files: [string, Buffer][] = [
    ["main/source/Sources", Buffer.from(sources)],
    ["main/source/Sources.gz", gzipSync(sources)],
  ];
  for (const [name, data] of files) writeFileSync(join(dist, name), data);
  const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
  const release = [
    "Origin: wdh-test",
    `Suite: ${pkg.suite}`,
    `Codename: ${pkg.suite}`,
    "Components: main",
    "Architectures: source",
    `Date: ${new Date().toUTCString()}`,
    "SHA256:",
    ...files.map(([name, data]) => ` ${sha(data)} ${String(data.length).padStart(8)} ${name}`),
    "",
  ].join("\n");
  writeFileSync(join(dist, "Release"), release);
  rmSync(work, { recursive: true, force: true });

  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? "");
    const path = normalize(join(root, decodeURIComponent((req.url ?? "/").split("?")[0]!)));
    if (!path.startsWith(root)) return res.writeHead(403).end();
    try {
      const body = readFileSync(path);
      res.writeHead(200, { "content-length": body.length }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    root,
    requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
