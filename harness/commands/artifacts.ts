// What a run booted, kept in the artifact store and recorded in its manifest ("artifacts"), so the run
// folder names files that stay what the run used, whatever is built afterwards (replay, prune).
import { keep, type Stored } from "../lib/store.ts";
import { type Context, need } from "./context.ts";

export type ArtifactName = "Image" | "vmlinux" | "System.map" | ".config" | "initramfs" | "qemu";

export function recordArtifact(ctx: Context, name: ArtifactName, a: Pick<Stored, "path" | "sha256">): void {
  const artifacts = (ctx.run.manifest.artifacts ?? {}) as Record<string, Pick<Stored, "path" | "sha256">>;
  artifacts[name] = { path: a.path, sha256: a.sha256 };
  ctx.run.set("artifacts", artifacts);
}

/** The kernel's files into the store; later steps boot and decode these, never the build dir's. */
export async function keepKernel(ctx: Context): Promise<void> {
  const b = need(ctx, "build");
  const image = await keep(b.image, "Image", b.imageSha256);
  const vmlinux = await keep(b.vmlinux, "vmlinux");
  recordArtifact(ctx, "Image", image);
  recordArtifact(ctx, "vmlinux", vmlinux);
  recordArtifact(ctx, "System.map", await keep(b.systemMap, "System.map"));
  recordArtifact(ctx, ".config", await keep(b.dotConfig, "config"));
  ctx.kernelImage = image.path;
  ctx.vmlinux = vmlinux.path;
}

/** A QEMU the harness built, into the store (its build dir is rebuilt by the next series or edit). */
export async function keepQemu(ctx: Context): Promise<void> {
  const b = need(ctx, "qemu").build;
  if (!b) throw new Error("bug: the QEMU binary is kept before QEMU was built");
  const stored = await keep(b.binary, "qemu-system-aarch64", b.binarySha256);
  recordArtifact(ctx, "qemu", stored);
  ctx.qemuBinary = stored.path;
}
