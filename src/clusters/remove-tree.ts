import { lstat, readdir, rm, rmdir } from "node:fs/promises";
import { join } from "node:path";
import type { RunAs } from "./os-user.ts";
import { run } from "./run.ts";

/**
 * Removes a tree that may hold directories unprivileged cluster users own (each branch
 * has its own). Root never walks into those: whoever runs as that user (a branch's
 * superuser through COPY ... TO PROGRAM) could swap a subdirectory for a symlink between
 * root's check and its descent, and root would then empty the link's target. Each is
 * emptied by `find -delete` running as its owner, so a swapped link can only reach what
 * that user could delete anyway. `runAs` (null: not root, plain rm) empties root-owned
 * directories others may write to. Safe to repeat; a missing path is not an error.
 */
export async function removeTree(path: string, runAs: RunAs | null): Promise<void> {
  if (!runAs) {
    await rm(path, { recursive: true, force: true });
    return;
  }
  const st = await lstat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return null;
    throw err;
  });
  if (!st) return;
  if (!st.isDirectory()) {
    await rm(path, { force: true });
    return;
  }
  // Owned by a cluster user, or group- or world-writable: someone but root may change it.
  if (st.uid !== 0 || (st.mode & 0o022) !== 0) {
    const as = st.uid !== 0 ? { uid: st.uid, gid: st.gid, name: `uid ${st.uid}` } : runAs;
    // The child changes into the directory before it drops to the user (libuv's order), so
    // the user needs no search right on the ancestors; it empties, root removes the husk.
    await run({
      cmd: "find",
      args: [".", "-xdev", "-mindepth", "1", "-delete"],
      cwd: path,
      runAs: as,
      what: `removing ${path}`,
      code: "ENVIRONMENT",
      hint: `remove ${path} by hand`,
    });
  } else {
    // Root's own and not writable by others: the cluster user cannot change it.
    for (const entry of await readdir(path)) await removeTree(join(path, entry), runAs);
  }
  await rmdir(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== "ENOENT") throw err;
  });
}
