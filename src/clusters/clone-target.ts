import {
  chmodSync,
  closeSync,
  constants,
  type Dirent,
  existsSync,
  fchmodSync,
  fchownSync,
  fstatSync,
  lchownSync,
  mkdirSync,
  openSync,
  readdirSync,
  writeFileSync,
} from "node:fs";
import { BoughError } from "../core/errors.ts";
import type { CloneDriver } from "./clone-driver.ts";
import type { RunAs } from "./os-user.ts";
import { removeTree } from "./remove-tree.ts";

/**
 * Cloning without following links, for root mode: a source data directory belongs to its
 * postmaster user (each branch has its own), who can put a symlink or hard link anywhere
 * in it, and swap entries between our check and our copy. So, as root:
 * - every source file and directory is opened with O_NOFOLLOW, checked on the open fd to
 *   be a regular file (or directory) owned by the owner of the source's root, and copied
 *   from that fd (through /proc/self/fd): whatever path games are played, root only ever
 *   copies an inode that user owns, i.e. could read anyway (never another branch's file);
 * - a symlink is refused (a data directory has none: bough refuses tablespaces and never
 *   runs initdb -X); sockets, fifos and devices are left out;
 * - the target stays root-only (0700, root-owned) until complete, every path in it resolved
 *   from a held fd of its root, then is handed over children first to the target's owner
 *   (the new cluster's user), who never gets a directory root still writes into.
 * Without root (no owner) postgres runs as the caller: there is no boundary to guard,
 * but symlinks are refused alike.
 *
 * Metadata calls are synchronous on purpose: each is a few microseconds, while a round trip
 * through libuv's 4-thread pool per call made a clone of ~1,000 files measurably slower.
 */

// /proc/self/fd/N names the very inode fd N holds: reopening it follows no path.
const PROC_FD = existsSync("/proc/self/fd");
const fdPath = (fd: number) => `/proc/self/fd/${fd}`;

const NOFOLLOW = constants.O_RDONLY | constants.O_NOFOLLOW;

/** The one refusal of an entry a data directory should not hold. */
export function refuse(path: string, what: string): never {
  throw new BoughError(
    "CLONE_FAILED",
    `refusing to clone ${path}: ${what}`,
    "a data directory holds only regular files and directories owned by its postmaster user; someone with that user's rights put this there: inspect and remove it",
  );
}

function requireProcFd(asRoot: boolean): void {
  if (asRoot && !PROC_FD) {
    throw new BoughError(
      "ENVIRONMENT",
      "cloning as root needs /proc/self/fd to copy from verified file descriptors",
      "mount /proc, or run bough as the user that owns the data",
    );
  }
}

/**
 * Opens path without following a final symlink and checks what the fd holds (kind, and
 * owner uid when given: root mode); null when it vanished meanwhile.
 */
function openChecked(path: string, uid: number | null, dir: boolean): number | null {
  let fd: number;
  try {
    // O_NONBLOCK: a fifo swapped in must not hang the open.
    fd = openSync(path, NOFOLLOW | constants.O_NONBLOCK | (dir ? constants.O_DIRECTORY : 0));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return null;
    if (code === "ELOOP" || code === "ENOTDIR") {
      refuse(path, "it is (or became) a symbolic link, or not a directory");
    }
    throw err;
  }
  try {
    const st = fstatSync(fd);
    if (dir ? !st.isDirectory() : !st.isFile()) {
      refuse(path, `it is not a regular ${dir ? "directory" : "file"}`);
    }
    if (uid !== null && st.uid !== uid) {
      refuse(path, `it is owned by uid ${st.uid}, not by uid ${uid} (the owner of the source)`);
    }
    return fd;
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/**
 * The uid every entry of the source tree at root must have, as root: the owner of its top
 * directory (opened without following a link). Null when not root: nothing to check.
 */
export function sourceOwner(root: string, asRoot: boolean): number | null {
  if (!asRoot) return null;
  const fd = openChecked(root, null, true);
  if (fd === null) refuse(root, "it does not exist");
  try {
    return fstatSync(fd).uid;
  } finally {
    closeSync(fd);
  }
}

/** Entries of a source directory, read from an fd opened without following links; null if gone. */
export function listSource(path: string, uid: number | null): Dirent[] | null {
  requireProcFd(uid !== null);
  const fd = openChecked(path, uid, true);
  if (fd === null) return null;
  try {
    return readdirSync(PROC_FD ? fdPath(fd) : path, { withFileTypes: true });
  } finally {
    closeSync(fd);
  }
}

/** A clone being built: root-only until handOver, every path inside resolved from its held root fd. */
export interface CloneTarget {
  readonly dir: string;
  /** The uid every source copied in must have (root mode), else null. */
  readonly sourceUid: number | null;
  /** Creates a directory with the source's mode; EEXIST when it is there already. */
  mkdir(rel: string, mode: number): void;
  /** Clones one source file into rel; false when the source vanished meanwhile. */
  copyFrom(src: string, rel: string): Promise<boolean>;
  writeFile(rel: string, text: string): void;
  /** Logical bytes of the files cloned and written so far (a reflink shares them on disk). */
  bytes(): number;
  /** Gives the finished tree to its owner (children before parents) and releases it. */
  handOver(): void;
  /** Removes the unfinished tree. */
  discard(): Promise<void>;
}

/**
 * Creates dir (must not exist) 0700 and owned by the caller, and holds it open. Sources
 * copied in must belong to sourceUid (root mode); handOver gives the tree to owner.
 */
export function createTarget(o: {
  dir: string;
  driver: CloneDriver;
  owner: RunAs | null;
  sourceUid: number | null;
}): CloneTarget {
  requireProcFd(o.owner !== null);
  mkdirSync(o.dir, { mode: 0o700 });
  const root = openSync(o.dir, NOFOLLOW | constants.O_DIRECTORY);
  fchmodSync(root, 0o700);
  const base = PROC_FD ? fdPath(root) : o.dir;
  const at = (rel: string) => `${base}/${rel}`;
  // In creation order: a directory always before what it holds.
  const dirs: string[] = [];
  const files: string[] = [];
  let open = true;
  let bytes = 0;
  const close = () => {
    if (open) closeSync(root);
    open = false;
  };
  return {
    dir: o.dir,
    sourceUid: o.sourceUid,
    mkdir(rel, mode) {
      mkdirSync(at(rel), { mode: 0o700 });
      dirs.push(rel);
      // The source's mode, umask aside; the tree is root's own, so the path is safe.
      chmodSync(at(rel), mode & 0o7777);
    },
    async copyFrom(src, rel) {
      const fd = openChecked(src, o.sourceUid, false);
      if (fd === null) return false;
      try {
        const size = fstatSync(fd).size;
        // The driver's copyFile keeps the source's mode bits.
        await o.driver.copyFile(PROC_FD ? fdPath(fd) : src, at(rel));
        bytes += size;
      } finally {
        closeSync(fd);
      }
      files.push(rel);
      return true;
    },
    writeFile(rel, text) {
      writeFileSync(at(rel), text, { mode: 0o600, flag: "wx" });
      files.push(rel);
      bytes += Buffer.byteLength(text);
    },
    bytes: () => bytes,
    handOver() {
      if (o.owner) {
        const { uid, gid } = o.owner;
        for (const rel of files) lchownSync(at(rel), uid, gid);
        for (const rel of [...dirs].reverse()) lchownSync(at(rel), uid, gid);
        fchownSync(root, uid, gid);
      }
      close();
    },
    async discard() {
      close();
      await removeTree(o.dir, o.owner);
    },
  };
}
