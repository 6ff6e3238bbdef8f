import { execFile } from "node:child_process";
import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";
import type { CloneDriver } from "./clone-driver.ts";

const BATCH = 256;

/**
 * Bytes this directory does not share with other clones: what deleting it would free.
 * copy driver: every allocated block. reflink driver: extents not flagged shared, read
 * with `filefrag -v` (FIEMAP) in batches. Null when it cannot be told (no filefrag,
 * unexpected output, unreadable tree).
 *
 * @example await exclusiveBytes("/var/lib/bough/projects/p/branches/b/data", driver) // 1_245_184
 */
export async function exclusiveBytes(dir: string, driver: CloneDriver): Promise<number | null> {
  const files: string[] = [];
  let dirBytes: number;
  try {
    dirBytes = await collect(dir, files);
  } catch {
    return null;
  }
  if (driver.name === "copy") {
    let total = dirBytes;
    for (let i = 0; i < files.length; i += BATCH) {
      const sizes = await Promise.all(
        files.slice(i, i + BATCH).map((f) =>
          lstat(f).then(
            (s) => s.blocks * 512,
            () => 0,
          ),
        ),
      );
      total += sizes.reduce((a, b) => a + b, 0);
    }
    return total;
  }
  let total = dirBytes;
  for (let i = 0; i < files.length; i += BATCH) {
    const part = await unsharedBytes(files.slice(i, i + BATCH));
    if (part === null) return null;
    total += part;
  }
  return total;
}

/** Lists regular files (absolute paths) and returns the bytes of the directories themselves. */
async function collect(dir: string, files: string[]): Promise<number> {
  let bytes = (await lstat(dir)).blocks * 512;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) bytes += await collect(path, files);
    else if (e.isFile()) files.push(path);
  }
  return bytes;
}

function unsharedBytes(files: readonly string[]): Promise<number | null> {
  return new Promise((resolve) => {
    execFile(
      "filefrag",
      ["-v", "-b1", "--", ...files],
      {
        encoding: "utf8",
        maxBuffer: 256 << 20,
        timeout: 120_000,
        env: { ...process.env, LC_ALL: "C" },
      },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== "number") return resolve(null); // not installed, killed
        // A file removed meanwhile (running cluster) is fine; any other complaint is not.
        const complaints = stderr.split("\n").filter((l) => l.trim() && !/No such file/i.test(l));
        if (complaints.length > 0) return resolve(null);
        resolve(parseFilefrag(stdout));
      },
    );
  });
}

const EXTENT = /^\s*\d+:\s*(\d+)\.\.\s*(\d+):\s*\d+\.\.\s*\d+:\s*\d+:\s*(?:\d+:)?\s*(\S*)\s*$/;

/**
 * Sums the logical bytes of extents not flagged "shared" in `filefrag -v -b1` output.
 * Logical ranges, not the length column: delayed-allocation extents report length 0.
 * Null when the output is not extent tables (e.g. the FIBMAP fallback).
 */
export function parseFilefrag(out: string): number | null {
  let total = 0;
  for (const line of out.split("\n")) {
    if (!/^\s*\d+:/.test(line)) continue;
    const m = EXTENT.exec(line);
    if (!m) return null;
    const flags = m[3].split(",");
    if (!flags.includes("shared")) total += Number(m[2]) - Number(m[1]) + 1;
  }
  return total;
}
