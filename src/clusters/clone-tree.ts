import { lstatSync } from "node:fs";
import { lstat } from "node:fs/promises";
import { join } from "node:path";
import { BoughError } from "../core/errors.ts";
import type { CloneDriver } from "./clone-driver.ts";
import { type CloneTarget, createTarget, listSource, refuse, sourceOwner } from "./clone-target.ts";
import type { RunAs } from "./os-user.ts";

export interface CloneTreeOptions {
  driver: CloneDriver;
  src: string;
  /** Must not exist. */
  dst: string;
  /** Who gets the finished tree (the cluster's user), as root; null otherwise. */
  owner: RunAs | null;
  /** Entries to leave out, by path relative to src ("pg_wal/000000010000000000000001"). */
  skip?: (relPath: string, isDir: boolean) => boolean;
  /** Files in flight at once (default 16). */
  concurrency?: number;
}

/**
 * Recreates a directory tree with the clone driver: directories with their modes (the
 * root 0700, as Postgres demands), files cloned several at a time, everything owned by
 * owner once complete. Never follows a link: a symlink is refused, and as root every entry
 * is checked to belong to the owner of src (see clone-target.ts). Files that vanish meanwhile (a
 * running source drops relations) are skipped. `extra` adds files to the unfinished,
 * root-only tree (backup_label, WAL). On failure dst is removed and CLONE_FAILED thrown.
 * Returns the logical bytes cloned.
 */
export async function cloneTree(
  o: CloneTreeOptions & { extra?: (target: CloneTarget) => Promise<void> },
): Promise<number> {
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
  const sourceUid = sourceOwner(o.src, o.owner !== null);
  const target = createTarget({ dir: o.dst, driver: o.driver, owner: o.owner, sourceUid });
  try {
    const files: string[] = [];
    await walk(o, target, sourceUid, "", files);
    await pool(files, o.concurrency ?? 16, async (rel) => {
      await target.copyFrom(join(o.src, rel), rel);
    });
    await o.extra?.(target);
    target.handOver();
    return target.bytes();
  } catch (err) {
    await target.discard();
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

/** Creates directories now (parents before children), collects files to clone. */
async function walk(
  o: CloneTreeOptions,
  target: CloneTarget,
  uid: number | null,
  rel: string,
  files: string[],
): Promise<void> {
  const entries = listSource(rel ? join(o.src, rel) : o.src, uid);
  for (const e of entries ?? []) {
    const child = rel ? `${rel}/${e.name}` : e.name;
    const isDir = e.isDirectory();
    if (o.skip?.(child, isDir)) continue;
    // bough refuses tablespaces and never runs initdb -X: no symlink belongs here.
    if (e.isSymbolicLink()) refuse(join(o.src, child), "it is a symbolic link");
    if (isDir) {
      let st: ReturnType<typeof lstatSync>;
      try {
        st = lstatSync(join(o.src, child));
      } catch (err) {
        ignoreVanished(err);
        continue;
      }
      target.mkdir(child, st.mode);
      await walk(o, target, uid, child, files);
    } else if (e.isFile()) {
      files.push(child);
    }
    // Sockets, fifos and devices have no place in a data directory: left out.
  }
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
