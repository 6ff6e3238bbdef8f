import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { appendFile, chmod, chown, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { BoughError } from "../core/errors.ts";
import type { ClusterCtx } from "./cluster.ts";
import { pgEnv, pgProgram } from "./install.ts";
import type { RunAs } from "./os-user.ts";
import { removeTree } from "./remove-tree.ts";
import { run } from "./run.ts";

/**
 * Settings for many small clusters on one machine, appended to postgresql.conf.
 * The port is not here: clones reuse the conf, so it is passed at start.
 */
export const CLUSTER_CONF = `
# --- bough: many small clusters on one machine ---
listen_addresses = '127.0.0.1'
# TCP only: no socket path length limits or collisions between clusters
unix_socket_directories = ''
max_connections = 40
shared_buffers = 16MB
max_wal_size = 256MB
min_wal_size = 32MB
# online clones use pg_backup_start and a temporary replication slot; realtime decodes
# the WAL (pgoutput) on a temporary logical slot
wal_level = logical
max_wal_senders = 4
max_replication_slots = 8
max_worker_processes = 8
huge_pages = off
password_encryption = 'scram-sha-256'
logging_collector = off
log_line_prefix = '%m [%p] '
log_timezone = 'UTC'
log_min_messages = warning
log_checkpoints = off
`;

/**
 * Creates a cluster: superuser "postgres" with a password (scram-sha-256 for TCP),
 * UTF8, C locale, checksums off, then the CLUSTER_CONF tuning.
 *
 * @example await initCluster(ctx, { dataDir: "/var/lib/bough/p/main/data", password: "s3cret", owner })
 */
export async function initCluster(
  ctx: ClusterCtx,
  o: {
    dataDir: string;
    password: string;
    noSync?: boolean;
    /** The user the cluster runs as (root: its own, see branches/cluster-users.ts). */
    owner: RunAs | null;
  },
): Promise<void> {
  if (existsSync(o.dataDir) && (await readdir(o.dataDir)).length > 0) {
    throw new BoughError(
      "CLUSTER_FAILED",
      `cannot create a cluster in ${o.dataDir}: the directory is not empty`,
      "remove it or pick another directory",
    );
  }
  await mkdir(dirname(o.dataDir), { recursive: true });
  await mkdir(o.dataDir, { recursive: true, mode: 0o700 });
  await chmod(o.dataDir, 0o700);
  if (o.owner) await chown(o.dataDir, o.owner.uid, o.owner.gid);
  const pwDir = await mkdtemp(join(tmpdir(), "bough-pw-"));
  try {
    const pwFile = join(pwDir, "pw");
    await writeFile(pwFile, `${o.password}\n`, { mode: 0o600 });
    if (o.owner) {
      await chown(pwDir, o.owner.uid, o.owner.gid);
      await chown(pwFile, o.owner.uid, o.owner.gid);
    }
    const major = ctx.install.major;
    await run({
      cmd: pgProgram(ctx.install, "initdb"),
      args: [
        "-D",
        o.dataDir,
        "-U",
        "postgres",
        "-E",
        "UTF8",
        `--locale=${await bestLocale()}`,
        "--auth=scram-sha-256",
        `--pwfile=${pwFile}`,
        // Checksums became the default in 18; they cost CPU on every page and bough clones whole files.
        ...(major >= 18 ? ["--no-data-checksums"] : []),
        ...(major >= 14 ? ["--no-instructions"] : []),
        // 1 MB WAL segments: a clone copies (and pg_backup_stop switches) one small segment,
        // not 16 MB, so branches start faster and add ~1 MB instead of ~16 MB on disk.
        "--wal-segsize=1",
        ...(o.noSync ? ["--no-sync"] : []),
      ],
      env: pgEnv(ctx.install),
      runAs: o.owner,
      what: `initdb of ${o.dataDir}`,
      code: "CLUSTER_FAILED",
      hint: "check free space and that the data directory's parent is reachable by the postgres user",
    });
    await appendFile(
      join(o.dataDir, "postgresql.conf"),
      `${CLUSTER_CONF}${recoverySyncConf(ctx.install.major)}`,
    );
  } catch (err) {
    await removeTree(o.dataDir, o.owner);
    throw err;
  } finally {
    await rm(pwDir, { recursive: true, force: true });
  }
}

/**
 * Starting a clone (it has a backup_label) or a crashed cluster, Postgres first fsyncs
 * every file of PGDATA one by one: ~170 ms for a fresh cluster's ~1,000 files on XFS
 * (measured by bench/), more with every table. One syncfs() of the filesystem is a few
 * ms, equally durable on Linux >= 5.8 (PG 14+, Linux only: elsewhere the value is refused).
 */
function recoverySyncConf(major: number): string {
  return process.platform === "linux" && major >= 14 ? "recovery_init_sync_method = syncfs\n" : "";
}

let localeCache: Promise<string> | undefined;

/** C.UTF-8 when the system has it (UTF-8 ctype, byte-order collation), else C. */
function bestLocale(): Promise<string> {
  localeCache ??= new Promise((resolve) => {
    execFile("locale", ["-a"], { encoding: "utf8" }, (err, out) => {
      const has = !err && out.split("\n").some((l) => /^c\.utf-?8$/i.test(l.trim()));
      resolve(has ? "C.UTF-8" : "C");
    });
  });
  return localeCache;
}
