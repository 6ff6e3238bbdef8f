import { constants } from "node:fs";
import { copyFile, mkdtemp, rm, stat, statfs, writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * How files are cloned into a new data directory. A small interface so ZFS or btrfs
 * subvolume drivers (whole-tree snapshots) can be added later.
 */
export interface CloneDriver {
  name: "reflink" | "copy";
  /** Why this driver, for `bough status` ("reflink: xfs supports FICLONE"). */
  reason: string;
  /**
   * Follows links like fs.copyFile: callers hand it a source they verified, as a
   * /proc/self/fd path of an fd they hold (clone-target.ts), never a path someone else can swap.
   */
  copyFile(src: string, dst: string): Promise<void>;
}

// FICLONE_FORCE fails instead of silently copying: a reflink driver never degrades to O(size).
const REFLINK_FLAGS = constants.COPYFILE_FICLONE_FORCE | constants.COPYFILE_EXCL;

export function reflinkDriver(fs: string): CloneDriver {
  return {
    name: "reflink",
    reason: `reflink: ${fs} supports FICLONE`,
    copyFile: (src, dst) => copyFile(src, dst, REFLINK_FLAGS),
  };
}

export function copyDriver(reason: string): CloneDriver {
  return {
    name: "copy",
    reason,
    copyFile: (src, dst) => copyFile(src, dst, constants.COPYFILE_EXCL),
  };
}

/** statfs f_type magic numbers of the filesystems worth naming. */
const FS_NAMES: Record<number, string> = {
  1481003842: "xfs",
  2435016766: "btrfs",
  61267: "ext4",
  16914836: "tmpfs",
  2035054128: "overlayfs",
  801189825: "zfs",
  3393526350: "bcachefs",
  26985: "nfs",
  1702057286: "fuse",
  1397113167: "afs",
  464386766: "bfs",
  4076150800: "f2fs",
};

export async function fsName(dir: string): Promise<string> {
  try {
    const type = (await statfs(dir)).type;
    return FS_NAMES[type] ?? `filesystem 0x${type.toString(16)}`;
  } catch {
    return "unknown filesystem";
  }
}

// Per device: the answer only changes if another filesystem is mounted there.
const cache = new Map<string, CloneDriver>();

/**
 * Probes copy-on-write cloning on temp files inside dir: FICLONE works => reflink,
 * otherwise copy, with the reason either way.
 *
 * @example (await detectCloneDriver("/var/lib/bough/projects")).reason // "reflink: xfs supports FICLONE"
 */
export async function detectCloneDriver(dir: string): Promise<CloneDriver> {
  const key = `${(await stat(dir)).dev}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const fs = await fsName(dir);
  const probe = await mkdtemp(join(dir, ".bough-clone-probe-"));
  let driver: CloneDriver;
  try {
    await writeFile(join(probe, "a"), Buffer.alloc(64 * 1024, 7));
    try {
      await copyFile(join(probe, "a"), join(probe, "b"), REFLINK_FLAGS);
      driver = reflinkDriver(fs);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "error";
      driver = copyDriver(
        `copy: ${fs} at ${dir} does not support reflink (FICLONE: ${code}): full copies, O(size)`,
      );
    }
  } finally {
    await rm(probe, { recursive: true, force: true });
  }
  cache.set(key, driver);
  return driver;
}
