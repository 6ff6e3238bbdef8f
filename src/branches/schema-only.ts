import type pg from "pg";
import { BoughError } from "../core/errors.ts";
import { quoteIdent } from "../core/names.ts";
import {
  clearCatalogData,
  extensionConfigData,
  keptTables,
  materializedViews,
  sequencesToRestart,
  truncateTargets,
} from "./schema-only-sql.ts";
import { withClient } from "./sql.ts";

/**
 * Settings of the run that empties a schema-only branch. The clone's WAL holds the parent's
 * rows (full-page images); with recycling off, a segment that is no longer needed is
 * deleted rather than renamed for reuse with those bytes still in it, and nothing (standby
 * reserve, archiver) keeps one alive. Later runs only ever write WAL of emptied data.
 */
export const EMPTYING_RUN_SETTINGS: Readonly<Record<string, string>> = {
  wal_recycle: "off",
  wal_keep_size: "0",
  archive_mode: "off",
};

export interface EmptiedData {
  databases: string[];
  tables: number;
  sequences: number;
  largeObjects: number;
  /** Refreshed from the emptied tables, so they can be queried. */
  matviewsRefreshed: number;
  /** Their refresh failed even on empty tables: left WITH NO DATA (unscannable until refreshed). */
  matviewsUnpopulated: string[];
}

/**
 * Schema-only mode: empties every database of a freshly cloned cluster of whatever holds
 * the parent's user data (tables, materialized views, sequences, large objects, statistics,
 * prepared transactions, the user rows of extension config tables, and the WAL that carried
 * them). Schema, comments, bough's bookkeeping, what extensions ship and config tables
 * (upsert policy) keep their contents.
 * Runs as the cluster's superuser, started with EMPTYING_RUN_SETTINGS.
 */
export async function emptyBranchData(urlFor: (database: string) => string): Promise<EmptiedData> {
  return withClient(urlFor("postgres"), async (admin) => {
    // template0 is initdb's pristine copy, never connectable nor written; every other
    // database is emptied, one closed to connections (ALLOW_CONNECTIONS false) included.
    const { rows } = await admin.query<{ datname: string; datallowconn: boolean }>(
      "SELECT datname, datallowconn FROM pg_database WHERE datname <> 'template0' ORDER BY datname",
    );
    const total: EmptiedData = {
      databases: rows.map((r) => r.datname),
      tables: 0,
      sequences: 0,
      largeObjects: 0,
      matviewsRefreshed: 0,
      matviewsUnpopulated: [],
    };
    for (const { datname, datallowconn } of rows) {
      const allow = (on: boolean) =>
        admin.query(`ALTER DATABASE ${quoteIdent(datname)} ALLOW_CONNECTIONS ${on}`);
      if (!datallowconn) await allow(true);
      const one = await withClient(urlFor(datname), emptyDatabase);
      if (!datallowconn) await allow(false);
      total.tables += one.tables;
      total.sequences += one.sequences;
      total.largeObjects += one.largeObjects;
      total.matviewsRefreshed += one.matviewsRefreshed;
      total.matviewsUnpopulated.push(...one.matviewsUnpopulated.map((m) => `${datname}: ${m}`));
    }
    await dropParentWal(admin);
    return total;
  });
}

async function emptyDatabase(client: pg.Client): Promise<Omit<EmptiedData, "databases">> {
  // A transaction the parent had prepared holds its rows and locks that TRUNCATE would wait on.
  const prepared = await client.query<{ gid: string }>(
    "SELECT gid FROM pg_prepared_xacts WHERE database = current_database()",
  );
  for (const { gid } of prepared.rows) {
    await client.query(`ROLLBACK PREPARED ${client.escapeLiteral(gid)}`);
  }
  const { kept, userData } = await keptTables(client);
  const targets = await truncateTargets(client, { kept, userData });
  // One statement: tables referencing each other are emptied together; CASCADE also empties
  // a kept table whose foreign key points into emptied rows (its rows could not stay).
  if (targets.length > 0) {
    await client.query(`TRUNCATE ${targets.join(", ")} RESTART IDENTITY CASCADE`);
  }
  const ext = await extensionConfigData(client);
  for (const t of ext.tables) {
    await client.query(`DELETE FROM ONLY ${t.name} ${t.where}`);
    // Deleted tuples keep their bytes in the pages until the table is rewritten.
    await client.query(`VACUUM FULL ${t.name}`);
  }
  const sequences = [...(await sequencesToRestart(client, kept)), ...ext.sequences];
  for (const stmt of sequences) await client.query(stmt);
  const matviews = await refreshMatviews(client, await materializedViews(client));
  const largeObjects = await clearCatalogData(client);
  return {
    tables: targets.length + ext.tables.length,
    sequences: sequences.length,
    largeObjects,
    matviewsRefreshed: matviews.refreshed,
    matviewsUnpopulated: matviews.unpopulated,
  };
}

/**
 * A user expects a materialized view that can be queried and shows no parent rows: all are
 * first emptied WITH NO DATA (so none is ever read while it holds parent rows), then
 * refreshed from the emptied tables in passes until no more succeed (a view over a view
 * succeeds once its source is populated). One whose query fails even then stays unpopulated.
 */
export async function refreshMatviews(
  client: pg.Client,
  names: string[],
): Promise<{ refreshed: number; unpopulated: string[] }> {
  for (const m of names) await client.query(`REFRESH MATERIALIZED VIEW ${m} WITH NO DATA`);
  let pending = names;
  for (;;) {
    const failed: string[] = [];
    for (const m of pending) {
      await client.query(`REFRESH MATERIALIZED VIEW ${m}`).catch(() => failed.push(m));
    }
    if (failed.length === pending.length) {
      return { refreshed: names.length - failed.length, unpopulated: failed };
    }
    pending = failed;
  }
}

/**
 * Ends the WAL segment that saw the emptying and checkpoints: every older segment (the
 * cloned ones, with the parent's page images) is deleted. Checked, not assumed.
 */
export async function dropParentWal(client: pg.ClientBase): Promise<void> {
  await client.query("SELECT pg_switch_wal()");
  await client.query("CHECKPOINT");
  const { rows } = await client.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_ls_waldir() w
      WHERE w.name ~ '^[0-9A-F]{24}$'
        AND substr(w.name, 9) < substr(pg_walfile_name((pg_control_checkpoint()).redo_lsn), 9)`,
  );
  const left = rows[0]?.n ?? 0;
  if (left > 0) {
    throw new BoughError(
      "CLONE_FAILED",
      `${left} WAL segment(s) older than the emptying (or masking) are still in the branch's pg_wal`,
      "a replication slot or WAL retention setting keeps them: remove it on the parent and retry",
    );
  }
}
