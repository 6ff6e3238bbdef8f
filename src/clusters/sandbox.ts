import { existsSync } from "node:fs";
import { chown, mkdir, rm } from "node:fs/promises";
import { join, relative } from "node:path";
import { type RunAs, WRITABLE_BY_ALL } from "./os-user.ts";

/**
 * A throwaway cluster that runs SQL bough has not reviewed yet (a merge rehearsal, a
 * migration replay, a recovery to a past point) on a copy of another branch's data. As
 * root it is sandboxed, so that SQL cannot carry what it reads anywhere else:
 * - its own network namespace: no interface but a down loopback, so no dblink, COPY ...
 *   TO PROGRAM 'curl' or TCP to another cluster; it listens on a Unix socket only;
 * - its own mount namespace, in which every world-writable directory is read-only or a
 *   private tmpfs: no file it writes can be read by another user (a branch's cluster).
 * It still reads and writes its own data directory, which only its user can open.
 */
export interface Sandbox {
  /** The Unix socket directory it listens in (root and its user only). */
  socketDir: string;
  /** Paths it writes that may lie under a world-writable directory (its data directory). */
  keep: readonly string[];
}

const SOCKET_ROOT = "/run/bough";

/**
 * Runs as root inside the new namespaces, then drops to the cluster's user. Paths are
 * arguments ("$2", "$@"), never part of the script: nothing of them is read by the shell.
 * `keep P` makes P a mount of its own, so the read-only remount of the directory above it
 * leaves P writable.
 */
const SCRIPT = `set -e
while [ "$1" != "--" ]; do
  case "$1" in
    private) mount -t tmpfs -o mode=1777,nosuid,nodev bough-sandbox "$2" ;;
    keep) mount --rbind "$2" "$2" ;;
    readonly) mount -o remount,bind,ro "$2" ;;
    *) echo "bough sandbox: unknown step $1" >&2; exit 2 ;;
  esac
  shift 2
done
shift
exec "$@"`;

const under = (path: string, dir: string) => {
  const r = relative(dir, path);
  return r === "" || (!r.startsWith("..") && !r.startsWith("/"));
};

/** The mount steps: a private tmpfs where nothing is kept, else read-only around what is. */
export function mountSteps(keep: readonly string[], writable = WRITABLE_BY_ALL): string[] {
  return writable.flatMap((dir) => {
    const inside = keep.filter((p) => under(p, dir));
    if (inside.length === 0) return ["private", dir];
    return ["keep", dir, ...inside.flatMap((p) => ["keep", p]), "readonly", dir];
  });
}

/** The argument vector that starts `program args` as user inside a sandbox. */
export function sandboxedCommand(
  program: string,
  args: readonly string[],
  o: { user: RunAs; sandbox: Sandbox },
): { cmd: string; args: string[] } {
  const present = WRITABLE_BY_ALL.filter((d) => existsSync(d));
  return {
    cmd: "unshare",
    args: [
      "--net",
      "--ipc",
      "--mount",
      "--propagation",
      "private",
      "--",
      "/bin/sh",
      "-c",
      SCRIPT,
      "bough-sandbox",
      ...mountSteps(o.sandbox.keep, present),
      "--",
      "setpriv",
      `--reuid=${o.user.uid}`,
      `--regid=${o.user.gid}`,
      "--clear-groups",
      "--",
      program,
      ...args,
    ],
  };
}

/** Settings that make a sandboxed cluster listen on its socket directory only. */
export function sandboxSettings(s: Sandbox): Record<string, string> {
  return { listen_addresses: "", unix_socket_directories: s.socketDir };
}

/** The socket directory of a sandboxed cluster run by user, made for it (0700). */
export async function makeSocketDir(user: RunAs): Promise<string> {
  const dir = socketDirOf(user);
  await mkdir(SOCKET_ROOT, { recursive: true, mode: 0o755 });
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { mode: 0o700 });
  await chown(dir, user.uid, user.gid);
  return dir;
}

/** Named after the user (one per operation, never reused), so a recovery finds it. */
export const socketDirOf = (user: { name: string }) => join(SOCKET_ROOT, user.name);

export async function removeSocketDir(user: { name: string }): Promise<void> {
  await rm(socketDirOf(user), { recursive: true, force: true });
}
