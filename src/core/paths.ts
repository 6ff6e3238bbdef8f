import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { BoughError } from "./errors.ts";

/** What names a project's or branch's directory: its name, and its row id. */
export interface DirRef {
  id: number;
  name: string;
}

/**
 * Where everything of one bough home lives on disk. Project and branch directories
 * are keyed by row id as well as name (`projects/default-1/branches/feature-7/`), so
 * an operation only ever touches the incarnation it was started for: a late rollback
 * of a deleted branch cannot wipe a branch re-created under the same name.
 */
export interface Paths {
  home: string;
  controlDb: string;
  /** Owner-only secret files (see control/secrets.ts). */
  secretsDir: string;
  /** A copy of the Postgres install the unprivileged user can reach (root only). */
  pgInstallDir: string;
  /** The folder holding every project's directory (the store's mount point when there is one). */
  projectsDir: string;
  /** Sparse XFS image loop-mounted on projectsDir (src/branches/store.ts), when there is one. */
  storeImage: string;
  projectDir(project: DirRef): string;
  /** Directory of one branch: data, T0 clone and log. */
  branchDir(project: DirRef, branch: DirRef): string;
  /** Live data directory of a branch's cluster. */
  branchData(project: DirRef, branch: DirRef): string;
  /** Frozen T0 clone of a branch, never started in place. */
  branchT0(project: DirRef, branch: DirRef): string;
  branchLog(project: DirRef, branch: DirRef): string;
  /** Scratch clones (merge rehearsals). */
  scratchDir(project: DirRef): string;
}

const isRoot = () => typeof process.getuid === "function" && process.getuid() === 0;

/**
 * Resolves the home: --home, else $BOUGH_HOME, else ~/.bough. As root, ~ is private
 * (mode 700) and the unprivileged postgres user could not reach it, so root defaults
 * to /var/lib/bough.
 */
export function resolveHome(explicit?: string): string {
  if (explicit) return resolve(explicit);
  if (process.env.BOUGH_HOME) return resolve(process.env.BOUGH_HOME);
  return isRoot() ? "/var/lib/bough" : join(homedir(), ".bough");
}

/** What Postgres' tools leave live inside the double quotes of the shell lines they build. */
const SHELL_UNSAFE = /["$`\\\n\r]/;

/**
 * Refuses a path Postgres' own tools would hand to a shell unsafely. bough spawns every
 * program with an argument vector, but initdb itself runs `"<bindir>/postgres" ...` through
 * `sh -c` (popen), and pg_ctl, which people run on a data directory by hand, builds
 * `exec "postgres" -D "<datadir>" >> "<log>"`: inside those double quotes `$(...)`,
 * backticks, `\` and `"` still act. A single quote is inert there, so it is allowed.
 *
 * @example requireShellSafePath("home", "/tmp/x-$(id)") // throws INVALID_INPUT
 */
export function requireShellSafePath(what: string, path: string): string {
  const bad = SHELL_UNSAFE.exec(path);
  if (bad) {
    throw new BoughError(
      "INVALID_INPUT",
      `the ${what} path ${JSON.stringify(path)} contains ${JSON.stringify(bad[0])}`,
      "Postgres' initdb and pg_ctl pass paths through a shell: pick a path without \", $, `, \\ or line breaks",
    );
  }
  return path;
}

const dirName = (r: DirRef) => `${r.name}-${r.id}`;

/** Every path of a home derives from here, so checking the home checks them all (names are validated). */
export function makePaths(home: string): Paths {
  requireShellSafePath("home", home);
  const projectsDir = join(home, "projects");
  const projectDir = (p: DirRef) => join(projectsDir, dirName(p));
  const branchDir = (p: DirRef, b: DirRef) => join(projectDir(p), "branches", dirName(b));
  return {
    home,
    controlDb: join(home, "control.db"),
    secretsDir: join(home, "secrets"),
    pgInstallDir: join(home, "pg"),
    projectsDir,
    storeImage: join(home, "store.xfs"),
    projectDir,
    branchDir,
    branchData: (p, b) => join(branchDir(p, b), "data"),
    branchT0: (p, b) => join(branchDir(p, b), "t0"),
    branchLog: (p, b) => join(branchDir(p, b), "postgres.log"),
    scratchDir: (p) => join(projectDir(p), "scratch"),
  };
}
