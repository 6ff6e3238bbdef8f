import { chmod, lchown, lstat, mkdir, readdir, readlink, rm, symlink } from "node:fs/promises";
import { join } from "node:path";
import { BoughError } from "../core/errors.ts";
import type { CloneDriver } from "./clone-driver.ts";
import type { RunAs } from "./os-user.ts";

export interface CloneTreeOptions {
  driver: CloneDriver;
  src: string;
  /** Must not exist. */
  dst: string;
  runAs: RunAs | null;
  /** Entries to leave out, by path relative to src ("pg_wal/000000010000000000000001"). */
  skip?: (relPath: string, isDir: boolean) => boolean;
  /** Files in flight at once (default 16). */
  concurrency?: number;
}

/**
 * Recreates a directory tree with the clone driver: directories with their modes (the
 * root 0700, as Postgres demands), files cloned several at a time, symlinks recreated,
 * everything owned by runAs. Files that vanish meanwhile (a running source drops
 * relations) are skipped. On failure dst is removed and CLONE_FAILED thrown.
 */
export async function cloneTree(o: CloneTreeOptions): Promise<void> {
  try {
    await lstat(o.dst);
    throw new BoughError(
      "CLONE_FAILED",
      `cannot clone into ${o.dst}: it already exists`,
      "remove it first",
    );
  } catch (err) {
    if (err instanceof BoughError) throw err;
  }
  try {
    await mkdir(o.dst, { mode: 0o700 });
    await chmod(o.dst, 0o700);
    if (o.runAs) await lchown(o.dst, o.runAs.uid, o.runAs.gid);
    const files: string[] = [];
    await walk(o, "", files);
    await pool(files, o.concurrency ?? 16, (rel) => cloneFile(o, rel));
  } catch (err) {
    await rm(o.dst, { recursive: true, force: true });
    if (err instanceof BoughError) throw err;
    throw new BoughError(
      "CLONE_FAILED",
      `cloning ${o.src} to ${o.dst} (${o.driver.name}) failed: ${(err as Error).message}`,
      o.driver.name === "copy"
        ? "check free space: the copy driver makes full copies"
        : "check free space and that source and target are on the same filesystem",
    );
  }
}

/** Creates directories and symlinks now (parents before children), collects files to clone. */
async function walk(o: CloneTreeOptions, rel: string, files: string[]): Promise<void> {
  const entries = await readdir(join(o.src, rel), { withFileTypes: true }).catch(ignoreVanished);
  for (const e of entries ?? []) {
    const child = rel ? `${rel}/${e.name}` : e.name;
    const isDir = e.isDirectory();
    if (o.skip?.(child, isDir)) continue;
    const dst = join(o.dst, child);
    if (isDir) {
      const st = await lstat(join(o.src, child)).catch(ignoreVanished);
      if (!st) continue;
      await mkdir(dst);
      await chmod(dst, st.mode & 0o7777);
      if (o.runAs) await lchown(dst, o.runAs.uid, o.runAs.gid);
      await walk(o, child, files);
    } else if (e.isSymbolicLink()) {
      const target = await readlink(join(o.src, child)).catch(ignoreVanished);
      if (target === undefined) continue;
      await symlink(target, dst);
      if (o.runAs) await lchown(dst, o.runAs.uid, o.runAs.gid);
    } else if (e.isFile()) {
      files.push(child);
    }
    // Sockets, fifos and devices have no place in a data directory: left out.
  }
}

async function cloneFile(o: CloneTreeOptions, rel: string): Promise<void> {
  const dst = join(o.dst, rel);
  try {
    // The driver's copyFile keeps the source's mode bits.
    await o.driver.copyFile(join(o.src, rel), dst);
  } catch (err) {
    ignoreVanished(err);
    return;
  }
  if (o.runAs) await lchown(dst, o.runAs.uid, o.runAs.gid);
}

function ignoreVanished(err: unknown): undefined {
  if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
  throw err;
}

/**
 * Runs fn over items with at most `limit` in flight. After a failure no new item starts,
 * the ones in flight finish (so the caller may clean up safely), then the first error is thrown.
 */
export async function pool<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | null = null;
  const worker = async () => {
    while (failure === null && next < items.length) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure !== null) throw (failure as { err: unknown }).err;
}
