import { existsSync, readFileSync, realpathSync } from "node:fs";
import { open, rm, truncate } from "node:fs/promises";
import { basename, join } from "node:path";
import { BoughError } from "../core/errors.ts";
import { run } from "./run.ts";

/**
 * A reflink-capable XFS filesystem in a sparse file, loop-mounted (root only). The one
 * implementation of it: bough's store (src/branches/store.ts) and the tests' and benches'
 * throwaway mounts (test/helpers/xfs.ts) both use it.
 */

/** A program from $PATH or the sbin directories a non-login root shell may lack. */
export function findProgram(name: string): string | null {
  const dirs = [...(process.env.PATH ?? "").split(":"), "/usr/sbin", "/sbin", "/usr/bin", "/bin"];
  for (const d of dirs) if (d && existsSync(join(d, name))) return join(d, name);
  return null;
}

function program(name: string, pkg: string): string {
  const found = findProgram(name);
  if (found) return found;
  throw new BoughError(
    "ENVIRONMENT",
    `${name} not found`,
    `install it (apt-get install ${pkg}) and retry`,
  );
}

const exec = (cmd: string, args: string[], what: string) =>
  run({ cmd, args, what, code: "ENVIRONMENT", hint: "see the message above", timeoutMs: 120_000 });

/**
 * Creates image (must not exist) as a sparse file of `bytes` holding an empty XFS with
 * reflink=1: only the blocks written later take disk space.
 */
export async function makeXfsImage(image: string, bytes: number): Promise<void> {
  const mkfs = program("mkfs.xfs", "xfsprogs");
  const fh = await open(image, "wx", 0o600);
  try {
    await fh.truncate(bytes);
  } finally {
    await fh.close();
  }
  try {
    await exec(mkfs, ["-q", "-m", "reflink=1", image], `mkfs.xfs of ${image}`);
  } catch (err) {
    await rm(image, { force: true });
    throw err;
  }
}

/**
 * Loop-mounts image on dir. `mount -o loop` marks the loop device autoclear, so the
 * unmount frees it (no leaked /dev/loopN); `discard` hands the blocks of deleted files
 * back to the sparse image.
 */
export async function mountXfsImage(image: string, dir: string): Promise<void> {
  await exec("mount", ["-t", "xfs", "-o", "loop,discard", image, dir], `mount -o loop ${image}`);
}

/** Unmounts dir, retrying while processes that just exited still hold it. */
export async function unmountXfsImage(dir: string, o: { lazyLastResort?: boolean } = {}) {
  for (let attempt = 0; ; attempt++) {
    try {
      await exec("umount", [dir], `umount ${dir}`);
      return;
    } catch (err) {
      if (attempt === 9) {
        // Detaches now, frees when the last user leaves (test cleanup only).
        if (o.lazyLastResort) return void (await exec("umount", ["-l", dir], `umount -l ${dir}`));
        throw err;
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

/** Grows the image of a mounted XFS to `bytes`: the file, then the loop device, then the filesystem. */
export async function growXfsImage(image: string, dir: string, bytes: number): Promise<void> {
  const m = mountAt(dir);
  if (!m?.source.startsWith("/dev/loop")) {
    throw new BoughError("ENVIRONMENT", `${dir} is not a loop mount`, "mount the image first");
  }
  await truncate(image, bytes);
  await exec(program("losetup", "mount"), ["-c", m.source], `losetup -c ${m.source}`);
  await exec(program("xfs_growfs", "xfsprogs"), [dir], `xfs_growfs ${dir}`);
}

export interface MountInfo {
  /** What is mounted: "/dev/loop3". */
  source: string;
  fsType: string;
  /** The file behind a loop device, when it is one. */
  backingFile: string | null;
}

// mountinfo writes space, tab, newline and backslash in paths as octal escapes.
const unoctal = (s: string) =>
  s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));

/** The topmost mount on exactly dir, from /proc/self/mountinfo; null when dir is no mount point. */
export function mountAt(dir: string): MountInfo | null {
  const path = realpathSync(dir);
  let found: MountInfo | null = null;
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const [left, right] = line.split(" - ");
    if (!right || unoctal(left.split(" ")[4]) !== path) continue;
    const [fsType, source] = right.split(" ").map(unoctal);
    found = { source, fsType, backingFile: loopBackingFile(source) };
  }
  return found;
}

function loopBackingFile(source: string): string | null {
  if (!source.startsWith("/dev/loop")) return null;
  try {
    return readFileSync(`/sys/block/${basename(source)}/loop/backing_file`, "utf8").trim();
  } catch {
    return null;
  }
}
