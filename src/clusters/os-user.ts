import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { lchown, lstat, readdir } from "node:fs/promises";
import { join } from "node:path";
import { BoughError } from "../core/errors.ts";
import { run } from "./run.ts";

/** The unprivileged user postmasters run as when bough runs as root. */
export interface RunAs {
  uid: number;
  gid: number;
  name: string;
}

export const RUN_AS_NAME = "bough";

export function isRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

/**
 * Null when not root (postgres runs as the current user). As root, returns the system
 * user "bough", creating it if absent (no login shell, no home).
 */
export async function ensureRunAs(): Promise<RunAs | null> {
  if (!isRoot()) return null;
  const found = await lookupUser(RUN_AS_NAME);
  if (found) return found;
  const shell = ["/usr/sbin/nologin", "/sbin/nologin"].find((s) => existsSync(s)) ?? "/bin/false";
  try {
    await run({
      cmd: "useradd",
      args: [
        "--system",
        "--user-group",
        "--no-create-home",
        "--home-dir",
        "/nonexistent",
        "--shell",
        shell,
        RUN_AS_NAME,
      ],
      what: `creating system user "${RUN_AS_NAME}"`,
      code: "ENVIRONMENT",
      hint: "bough runs as root, and Postgres refuses root: create the user yourself (useradd --system bough) and retry",
    });
  } catch (err) {
    // Another bough process may have created it at the same moment.
    const again = await lookupUser(RUN_AS_NAME);
    if (again) return again;
    throw err;
  }
  const created = await lookupUser(RUN_AS_NAME);
  if (!created) {
    throw new BoughError(
      "ENVIRONMENT",
      `system user "${RUN_AS_NAME}" was created but cannot be looked up`,
      "check /etc/passwd and nsswitch (getent passwd bough)",
    );
  }
  return created;
}

function lookupUser(name: string): Promise<RunAs | null> {
  return new Promise((resolve) => {
    execFile("getent", ["passwd", name], { encoding: "utf8" }, (err, stdout) => {
      if (err) return resolve(null);
      const f = stdout.trim().split(":");
      const uid = Number(f[2]);
      const gid = Number(f[3]);
      resolve(
        f[0] === name && Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid, name } : null,
      );
    });
  });
}

/** Gives a whole tree (not following symlinks) to runAs; no-op when runAs is null. */
export async function chownTree(path: string, runAs: RunAs | null): Promise<void> {
  if (!runAs) return;
  await lchown(path, runAs.uid, runAs.gid);
  const st = await lstat(path);
  if (!st.isDirectory()) return;
  const entries = await readdir(path);
  // Bounded batches keep file descriptors and memory flat on big trees.
  for (let i = 0; i < entries.length; i += 64) {
    await Promise.all(entries.slice(i, i + 64).map((e) => chownTree(join(path, e), runAs)));
  }
}
