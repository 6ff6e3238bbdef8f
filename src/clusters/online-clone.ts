import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import pg from "pg";
import { BoughError } from "../core/errors.ts";
import type { CloneDriver } from "./clone-driver.ts";
import { type CloneTarget, listSource } from "./clone-target.ts";
import { cloneTree, pool } from "./clone-tree.ts";
import { clusterPid } from "./cluster.ts";
import type { RunAs } from "./os-user.ts";
import { removeTree } from "./remove-tree.ts";
import { type WalRange, walSegmentsBetween } from "./wal.ts";

/** Not part of a clone: runtime state Postgres rebuilds (as pg_basebackup leaves them out). */
const TOP_LEVEL_FILES = new Set([
  "postmaster.pid",
  "postmaster.opts",
  "current_logfiles",
  "backup_label",
  "backup_label.old",
  "tablespace_map",
  "tablespace_map.old",
  "backup_manifest",
]);
const EMPTIED_DIRS = [
  "pg_replslot",
  "pg_dynshmem",
  "pg_notify",
  "pg_serial",
  "pg_snapshots",
  "pg_stat_tmp",
  "pg_subtrans",
];

/** What a clone of a data directory leaves out (paths relative to PGDATA, "/" separated). */
export function skipInClone(rel: string, isDir: boolean): boolean {
  if (TOP_LEVEL_FILES.has(rel)) return true;
  const name = rel.slice(rel.lastIndexOf("/") + 1);
  if (name === "pg_internal.init" || name.startsWith("pgsql_tmp")) return true;
  if (EMPTIED_DIRS.some((d) => rel.startsWith(`${d}/`))) return true;
  // WAL is cloned separately (start to stop segment); its subdirectories stay, empty.
  // A pg_wal symlink (initdb -X, never done by bough) is refused by that WAL clone.
  if (rel === "pg_wal") return !isDir;
  return rel.startsWith("pg_wal/") && !isDir;
}

/**
 * Online copy-on-write clone of a running cluster, which keeps serving reads and writes:
 * on ONE session, pg_backup_start, clone PGDATA, pg_backup_stop, write backup_label,
 * clone the WAL from the start to the stop segment. The target starts with startCluster
 * (recovery replays that WAL) and holds everything committed before the call; it is
 * consistent from stopLsn on (the backup's end).
 *
 * @example const { lsn } = await cloneRunning({ sourceDataDir, sourceUrl, targetDataDir, driver, owner })
 */
export async function cloneRunning(o: {
  sourceDataDir: string;
  sourceUrl: string;
  targetDataDir: string;
  driver: CloneDriver;
  /** The user the clone will run as (root mode), null otherwise. */
  owner: RunAs | null;
}): Promise<{ lsn: string; at: string; stopLsn: string; bytes: number }> {
  if (existsSync(o.targetDataDir)) {
    throw new BoughError(
      "CLONE_FAILED",
      `cannot clone into ${o.targetDataDir}: it already exists`,
      "remove it first (a leftover of an interrupted operation is removed by recovery)",
    );
  }
  const client = new pg.Client({ connectionString: o.sourceUrl, application_name: "bough clone" });
  // An error on an idle client must not crash the process: the next query reports it.
  client.on("error", () => {});
  let connected = false;
  let stopLsn = "";
  try {
    await client.connect();
    connected = true;
    await refuseTablespaces(client);
    const modern =
      Number((await client.query("SHOW server_version_num")).rows[0].server_version_num) >= 150000;
    // A temporary slot pins the WAL from here on (a backup alone does not stop the
    // checkpointer from recycling segments during a long copy); dropped with the session.
    const slot = `bough_clone_${process.pid}_${randomBytes(4).toString("hex")}`;
    await client.query("SELECT pg_create_physical_replication_slot($1, true, true)", [slot]);
    const at = new Date().toISOString();
    const start = await client.query<{ lsn: string; walfile: string }>(
      `SELECT b.lsn::text AS lsn, (pg_walfile_name_offset(b.lsn)).file_name AS walfile
         FROM ${modern ? "pg_backup_start($1, true)" : "pg_start_backup($1, true, false)"} AS b(lsn)`,
      [`bough clone ${at}`],
    );
    await mkdir(dirname(o.targetDataDir), { recursive: true });
    const bytes = await cloneTree({
      driver: o.driver,
      src: o.sourceDataDir,
      dst: o.targetDataDir,
      owner: o.owner,
      skip: skipInClone,
      // Still inside the root-only tree: the backup's end, its label and its WAL.
      extra: async (target) => {
        const stop = await client.query<{
          lsn: string;
          labelfile: string;
          spcmapfile: string | null;
          walfile: string;
        }>(
          `SELECT s.lsn::text AS lsn, s.labelfile, s.spcmapfile, pg_walfile_name(s.lsn) AS walfile
             FROM ${modern ? "pg_backup_stop(false)" : "pg_stop_backup(false, false)"} AS s`,
        );
        const segSize = await walSegmentSize(client);
        const { labelfile, spcmapfile } = stop.rows[0];
        stopLsn = stop.rows[0].lsn;
        target.writeFile("backup_label", labelfile);
        if (spcmapfile) target.writeFile("tablespace_map", spcmapfile);
        // pg_backup_stop switched to a new segment: the stop segment is complete and flushed.
        await cloneWal({
          target,
          src: join(o.sourceDataDir, "pg_wal"),
          range: { first: start.rows[0].walfile, last: stop.rows[0].walfile, segmentSize: segSize },
        });
      },
    });
    return { lsn: start.rows[0].lsn, at, stopLsn, bytes };
  } catch (err) {
    // Ending the session aborts the backup and drops the slot.
    if (connected) await client.end().catch(() => {});
    connected = false;
    await removeTree(o.targetDataDir, o.owner);
    if (err instanceof BoughError) throw err;
    throw new BoughError(
      "CLONE_FAILED",
      `online clone of ${o.sourceDataDir} failed: ${(err as Error).message}`,
      "check that the source cluster runs and the disk has room; the source is unaffected",
    );
  } finally {
    if (connected) await client.end().catch(() => {});
  }
}

async function refuseTablespaces(client: pg.Client): Promise<void> {
  const r = await client.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM pg_tablespace WHERE spcname NOT IN ('pg_default', 'pg_global')",
  );
  if (r.rows[0].n > 0) {
    throw new BoughError(
      "CLONE_FAILED",
      "the source cluster has tablespaces: a clone would share their directories with it",
      "move the objects back to pg_default (ALTER TABLE ... SET TABLESPACE pg_default) and drop the tablespaces",
    );
  }
}

/** wal_segment_size of a running cluster, in bytes. */
export async function walSegmentSize(client: pg.Client): Promise<number> {
  const r = await client.query<{ setting: string; unit: string | null }>(
    "SELECT setting, unit FROM pg_settings WHERE name = 'wal_segment_size'",
  );
  const units: Record<string, number> = { B: 1, kB: 1024, "8kB": 8192, MB: 1 << 20 };
  return Number(r.rows[0].setting) * (units[r.rows[0].unit ?? "B"] ?? 1);
}

/** Clones the WAL segments of the backup (all must be there) and every timeline history file. */
async function cloneWal(o: { target: CloneTarget; src: string; range: WalRange }): Promise<void> {
  // Refuses a pg_wal that is a symlink (the tree walk left it out, as WAL is cloned here).
  const names = (listSource(o.src, o.target.sourceUid) ?? []).map((e) => e.name);
  for (const dir of ["pg_wal", "pg_wal/archive_status"]) {
    try {
      o.target.mkdir(dir, 0o700);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
  }
  const segments = walSegmentsBetween(names, o.range);
  const history = names.filter((n) => /^[0-9A-F]{8}\.history$/.test(n));
  await pool([...segments, ...history], 8, async (name) => {
    if (!(await o.target.copyFrom(join(o.src, name), `pg_wal/${name}`))) {
      throw new BoughError(
        "CLONE_FAILED",
        `WAL file ${name} vanished from ${o.src} during the clone`,
        "retry; the replication slot should have kept it, so check what removes WAL files there",
      );
    }
  });
}

/**
 * Clone of a cluster that is not running (the frozen T0 copy, reset): a plain tree
 * clone without the pid files. Refuses a running source (its files would be torn).
 * Returns the logical bytes cloned.
 */
export async function cloneStopped(o: {
  driver: CloneDriver;
  src: string;
  dst: string;
  /** The user the clone belongs to (root mode), null otherwise. */
  owner: RunAs | null;
  /** Adds files while the clone is still root-only (see cloneTree). */
  extra?: (target: CloneTarget) => Promise<void>;
}): Promise<number> {
  const pid = clusterPid(o.src);
  if (pid !== null) {
    throw new BoughError(
      "CLONE_FAILED",
      `cannot clone ${o.src} as a stopped cluster: it runs (pid ${pid})`,
      "stop it first, or use an online clone",
    );
  }
  await mkdir(dirname(o.dst), { recursive: true });
  return cloneTree({
    driver: o.driver,
    src: o.src,
    dst: o.dst,
    owner: o.owner,
    skip: (rel) => rel === "postmaster.pid" || rel === "postmaster.opts",
    extra: o.extra,
  });
}
