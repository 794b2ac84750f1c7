// Crash and failure signatures compared across commits: what moves from build to build (addresses,
// offsets, line numbers, timestamps, pids, CPU numbers) is taken out before comparing.
export function normalizeSignature(signature: string): string {
  return signature
    .replace(/\[\s*\d+\.\d+\]/g, "") // console timestamps
    .replace(/\+0x[0-9a-f]+\/0x[0-9a-f]+/gi, "") // symbol+off/size
    .replace(/\b0x[0-9a-f]+\b/gi, "ADDR")
    .replace(/\b[0-9a-f]{16}\b/gi, "ADDR") // bare 64-bit addresses
    .replace(/\b(PID|pid|CPU|cpu|Comm:)\s*:?\s*\d+/g, "$1")
    .replace(/\.(isra|constprop|part|cold)\.\d+/g, "")
    .replace(/:\d+(:\d+)?(?=[:\s)]|$)/g, "") // file:line[:col]
    .replace(/\s+/g, " ")
    .trim();
}

export function sameSignature(a: string, b: string): boolean {
  return normalizeSignature(a) === normalizeSignature(b);
}
