import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { withClient } from "../src/branches/sql.ts";
import { type PgInstall, pgEnv } from "../src/clusters/install.ts";
import { onAbort } from "./cleanup.ts";

/** The ways to copy a database that bough is compared with. Each returns seconds, or null with why. */
export type Timing = { seconds: number } | { seconds: null; why: string };

const seconds = (t0: number) => (performance.now() - t0) / 1000;
const withDb = (url: string, db: string) => url.replace(/\/[^/]+$/, `/${db}`);

/**
 * `pg_dump -Fc | pg_restore` into a new database of the same cluster: how InsForge-style
 * branching copies a database. Timed from the start of the dump until the restore has
 * finished, i.e. until the copy is queryable. Needs pg_dump/pg_restore of the server's
 * major version next to its other programs (the embedded install ships none).
 */
export async function dumpRestore(install: PgInstall, url: string): Promise<Timing> {
  const dump = join(install.binDir, "pg_dump");
  const restore = join(install.binDir, "pg_restore");
  if (!existsSync(dump) || !existsSync(restore)) {
    return { seconds: null, why: `no pg_dump/pg_restore in ${install.binDir}` };
  }
  // The password goes by environment (only its owner reads /proc/<pid>/environ), never in argv
  // where every local user's `ps` sees it.
  const env = { ...pgEnv(install), PGPASSWORD: decodeURIComponent(new URL(url).password) };
  const source = withoutPassword(url);
  const target = withoutPassword(withDb(url, "bench_restore"));
  try {
    await withClient(url, (c) => c.query("DROP DATABASE IF EXISTS bench_restore"));
    const t0 = performance.now();
    await withClient(url, (c) => c.query("CREATE DATABASE bench_restore"));
    // -Z0: compression would only make the baseline slower (CPU-bound on 2 cores).
    const producer = spawn(dump, ["-Fc", "-Z0", "-d", source], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    // pg_restore reads pg_dump's pipe itself, as a shell pipeline would: no copy through node.
    const consumer = spawn(restore, ["--exit-on-error", "-d", target], {
      env,
      stdio: [producer.stdout ?? "ignore", "ignore", "pipe"],
    });
    // Our copy of the pipe's read end must go, or pg_dump would never see pg_restore die.
    producer.stdout?.destroy();
    const forget = onAbort("pg_dump | pg_restore", async () => {
      producer.kill("SIGKILL");
      consumer.kill("SIGKILL");
    });
    try {
      const [d, r] = await Promise.all([
        exited(producer, "pg_dump"),
        exited(consumer, "pg_restore"),
      ]);
      if (d || r) return { seconds: null, why: [d, r].filter(Boolean).join("; ") };
      return { seconds: seconds(t0) };
    } finally {
      forget();
    }
  } catch (err) {
    return { seconds: null, why: `pg_dump | pg_restore failed: ${(err as Error).message}` };
  } finally {
    await withClient(url, (c) => c.query("DROP DATABASE IF EXISTS bench_restore")).catch(() => {});
  }
}

/**
 * `pg_dump --schema-only` to /dev/null: how long the usual tool takes to read a whole schema,
 * the yardstick for introspection (which reads it into objects as well).
 */
export async function dumpSchema(install: PgInstall, url: string): Promise<Timing> {
  const dump = join(install.binDir, "pg_dump");
  if (!existsSync(dump)) return { seconds: null, why: `no pg_dump in ${install.binDir}` };
  const env = { ...pgEnv(install), PGPASSWORD: decodeURIComponent(new URL(url).password) };
  const t0 = performance.now();
  const child = spawn(dump, ["--schema-only", "-d", withoutPassword(url)], {
    env,
    stdio: ["ignore", "ignore", "pipe"],
  });
  const forget = onAbort("pg_dump --schema-only", async () => {
    child.kill("SIGKILL");
  });
  try {
    const failed = await exited(child, "pg_dump");
    return failed ? { seconds: null, why: failed } : { seconds: seconds(t0) };
  } finally {
    forget();
  }
}

function withoutPassword(url: string): string {
  const u = new URL(url);
  u.password = "";
  return u.toString();
}

/** Resolves with null on exit 0, else with what went wrong (last stderr line). */
async function exited(child: ChildProcess, name: string): Promise<string | null> {
  let err = "";
  const stderrDone = new Promise<void>((resolve) => {
    if (!child.stderr) return resolve();
    child.stderr.on("data", (b: Buffer) => {
      err = (err + b.toString("utf8")).slice(-2000);
    });
    child.stderr.on("close", () => resolve());
  });
  // "exit", not "close": close also waits for stdout, which pg_restore holds, not us.
  const status = await new Promise<string | null>((resolve) => {
    child.on("error", (e) => resolve(e.message));
    child.on("exit", (code, signal) => resolve(code === 0 ? null : `exited ${code ?? signal}`));
  });
  if (status === null) return null;
  await stderrDone;
  const last = err.trim().split("\n").pop() ?? "";
  return `${name} ${status}${last ? `: ${last}` : ""}`;
}

/**
 * `CREATE DATABASE ... TEMPLATE ... STRATEGY FILE_COPY` (PG 15+): Postgres' own
 * whole-database file copy (checkpoint, then copy every file; no copy-on-write).
 */
export async function templateCopy(url: string): Promise<Timing> {
  // The template must have no other session, so the command runs from template1.
  const admin = withDb(url, "template1");
  try {
    await withClient(admin, (c) => c.query("DROP DATABASE IF EXISTS bench_copy"));
    const t0 = performance.now();
    await withClient(admin, (c) =>
      c.query("CREATE DATABASE bench_copy TEMPLATE postgres STRATEGY FILE_COPY"),
    );
    return { seconds: seconds(t0) };
  } catch (err) {
    return { seconds: null, why: `template copy failed: ${(err as Error).message}` };
  } finally {
    await withClient(admin, (c) => c.query("DROP DATABASE IF EXISTS bench_copy")).catch(() => {});
  }
}
