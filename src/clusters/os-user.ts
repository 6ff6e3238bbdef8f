import { execFile } from "node:child_process";
import { existsSync, lstatSync } from "node:fs";
import { lchown, lstat, readdir } from "node:fs/promises";
import { join } from "node:path";
import { BoughError } from "../core/errors.ts";
import { killProcessesOf } from "./processes.ts";
import { type RunOptions, run } from "./run.ts";

/** The unprivileged user postmasters run as when bough runs as root. */
export interface RunAs {
  uid: number;
  gid: number;
  name: string;
}

export const RUN_AS_NAME = "bough";

const NOLOGIN = () =>
  ["/usr/sbin/nologin", "/sbin/nologin"].find((s) => existsSync(s)) ?? "/bin/false";

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
        NOLOGIN(),
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

/**
 * useradd/userdel of two bough processes at once: one finds /etc/passwd locked ("cannot
 * lock /etc/passwd; try again later", exit 10) and does, a few times, then gives up.
 */
async function runPasswd(o: RunOptions): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await run(o);
      return;
    } catch (err) {
      const stderr = String(
        ((err as BoughError).details as { stderr?: string } | undefined)?.stderr ?? "",
      );
      if (attempt >= 20 || !/cannot lock|try again later/iu.test(stderr)) throw err;
      await new Promise((r) => setTimeout(r, 100 + Math.floor(Math.random() * 200)));
    }
  }
}

/**
 * The system user `name` with primary group gid (the home's group, so it traverses the
 * home and nothing else: Node drops supplementary groups when it spawns as a user),
 * created when absent: no home, no login shell, no group of its own.
 */
export async function ensureUser(name: string, gid: number): Promise<RunAs> {
  const found = await lookupUser(name);
  if (found) return found;
  await runPasswd({
    cmd: "useradd",
    args: [
      "--system",
      "--no-create-home",
      "--home-dir",
      "/nonexistent",
      "--shell",
      NOLOGIN(),
      "--no-user-group",
      "--gid",
      String(gid),
      name,
    ],
    what: `creating system user "${name}"`,
    code: "ENVIRONMENT",
    hint: "each branch's cluster runs as a system user of its own: check that useradd works (free system uids in /etc/login.defs)",
  });
  const created = await lookupUser(name);
  if (!created) {
    throw new BoughError(
      "ENVIRONMENT",
      `system user "${name}" was created but cannot be looked up`,
      `check /etc/passwd and nsswitch (getent passwd ${name})`,
    );
  }
  return created;
}

/**
 * Removes a user made by ensureUser, after killing every process still running as it (a
 * branch superuser can leave one behind with COPY ... TO PROGRAM): its uid may be given
 * to the next user created, which must not inherit a stranger's process. No-op when absent.
 */
export async function removeUser(name: string): Promise<void> {
  const user = await lookupUser(name);
  if (!user) return;
  if (user.uid === 0 || user.name === RUN_AS_NAME) {
    throw new BoughError(
      "ENVIRONMENT",
      `refusing to remove user "${name}"`,
      "this is a bug in bough",
    );
  }
  await killProcessesOf(user.uid);
  await removeLeftovers(user);
  await runPasswd({
    cmd: "userdel",
    args: [name],
    what: `removing system user "${name}"`,
    code: "ENVIRONMENT",
    hint: `remove it by hand (userdel ${name})`,
  });
}

/** Directories any user may create files in, on a Debian-like system. */
export const WRITABLE_BY_ALL = ["/tmp", "/var/tmp", "/dev/shm", "/run/lock"];

/**
 * Deletes what user left in directories anyone can write: useradd hands a freed uid to
 * the next user, who would own those files. Runs as the user itself (its processes are
 * gone), so it can delete only its own files and never follows another user's links.
 */
async function removeLeftovers(user: RunAs): Promise<void> {
  const dirs = WRITABLE_BY_ALL.filter((d) => existsSync(d));
  if (dirs.length === 0) return;
  await run({
    cmd: "find",
    args: [...dirs, "-xdev", "-user", String(user.uid), "-delete"],
    runAs: user,
    what: `removing the files of "${user.name}" in ${dirs.join(", ")}`,
    code: "ENVIRONMENT",
    hint: "",
  }).catch(() => {
    // find exits 1 for every directory it may not read: what it could delete is gone.
  });
}

/** The owner of path (not following a link) as the user a cluster there runs as. */
export function ownerOf(path: string): RunAs | null {
  try {
    const st = lstatSync(path);
    return { uid: st.uid, gid: st.gid, name: `uid ${st.uid}` };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

/** The name of the user with this uid, or null when it has none. */
export function userName(uid: number): Promise<string | null> {
  return new Promise((resolve) => {
    execFile("getent", ["passwd", String(uid)], { encoding: "utf8" }, (err, stdout) =>
      resolve(err ? null : (stdout.split(":")[0] ?? null)),
    );
  });
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
