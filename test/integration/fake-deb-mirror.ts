// A Debian binary mirror on 127.0.0.1 for tests: one Architecture: all package built with the real
// dpkg-deb, indexed with dpkg-scanpackages, a Release file listing the indexes, served over HTTP.
// apt-get reads it like deb.debian.org (unsigned, so the harness is told to trust it).
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { join, normalize } from "node:path";
import type { Exec } from "../../harness/lib/exec.ts";
import type { FakeMirror } from "./fake-apt-mirror.ts";

/** `<name>_<version>_all.deb` holding usr/src/<name>.tar.xz made from `tree` (a linux-source package's shape). */
export async function fakeLinuxSourceMirror(
  exec: Exec,
  tree: string,
  root: string,
  pkg: { name: string; version: string; suite: string },
): Promise<FakeMirror> {
  const work = join(root, "build");
  const top = pkg.name; // the tarball's top folder, as Debian's: linux-source-7.2/
  const staging = join(work, "pkg");
  mkdirSync(join(work, top), { recursive: true });
  cpSync(tree, join(work, top), { recursive: true });
  mkdirSync(join(staging, "usr/src"), { recursive: true });
  mkdirSync(join(staging, "DEBIAN"), { recursive: true });
  await exec("tar", ["-cJf", join(staging, "usr/src", `${pkg.name}.tar.xz`), "-C", work, top]);
  writeFileSync(
    join(staging, "DEBIAN/control"),
    [
      `Package: ${pkg.name}`,
      `Version: ${pkg.version}`,
      "Architecture: all",
      "Maintainer: Test <test@example.invalid>",
      "Section: kernel",
      "Priority: optional",
      "Description: a fake kernel source for the harness's tests",
      "",
    ].join("\n"),
  );
  const pool = join(root, "pool", "main", "l", pkg.name);
  mkdirSync(pool, { recursive: true });
  await exec("dpkg-deb", ["--root-owner-group", "-Zxz", "--build", staging, join(pool, `${pkg.name}_${pkg.version.replace(/^\d+:/, "")}_all.deb`)]);
  const packages = (await exec("dpkg-scanpackages", ["pool"], { cwd: root })).stdout;
  const dist = join(root, "dists", pkg.suite);
  // apt looks for the host's architectures and "all"; the package sits in each, as Debian's do.
  const files: [string, Buffer][] = [];
  for (const arch of ["all", "amd64", "arm64"]) {
    files.push([`main/binary-${arch}/Packages`, Buffer.from(packages)], [`main/binary-${arch}/Packages.gz`, gzipSync(packages)]);
  }
  for (const [name, data] of files) {
    mkdirSync(join(dist, name, ".."), { recursive: true });
    writeFileSync(join(dist, name), data);
  }
  const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
  writeFileSync(
    join(dist, "Release"),
    [
      "Origin: wdh-test",
      `Suite: ${pkg.suite}`,
      `Codename: ${pkg.suite}`,
      "Components: main",
      "Architectures: all amd64 arm64",
      `Date: ${new Date().toUTCString()}`,
      "SHA256:",
      ...files.map(([name, data]) => ` ${sha(data)} ${String(data.length).padStart(8)} ${name}`),
      "",
    ].join("\n"),
  );
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
  return { url: `http://127.0.0.1:${port}`, root, requests, close: () => new Promise<void>((r) => server.close(() => r())) };
}
