import type pg from "pg";
import { withClient } from "../src/branches/sql.ts";

/** Where a growing `bench` table stands, so each size only adds what the previous one lacked. */
export interface FillState {
  nextId: number;
}

/** ~1 kB per row: 8 rows fill a heap page; below the TOAST threshold so nothing is compressed. */
const ROW_BYTES = 1000;
const MAX_BATCH_ROWS = 60_000;

/**
 * Grows the database at url (table `bench`, a normal logged table so clones are realistic)
 * until pg_database_size reaches targetBytes, then checkpoints so a clone replays no WAL.
 * Returns the database size. Measured at ~85 MB/s on 2 cores, WAL-bound: two sessions in
 * parallel were no faster, so it stays one session with big INSERT ... SELECT batches.
 */
export async function growTo(url: string, targetBytes: number, state: FillState): Promise<number> {
  return withClient(url, async (c) => {
    // The data is throwaway until the CHECKPOINT below: no need to wait for each WAL flush.
    await c.query("SET synchronous_commit = off");
    // Autovacuum waking up on a freshly filled 4 GB table would add noise to every timing.
    await c.query(
      "CREATE TABLE IF NOT EXISTS bench (id bigint, payload text) WITH (autovacuum_enabled = false)",
    );
    let size = await databaseSize(c);
    while (size < targetBytes) {
      const rows = Math.min(
        MAX_BATCH_ROWS,
        Math.max(1000, Math.ceil((targetBytes - size) / ROW_BYTES)),
      );
      await c.query(
        "INSERT INTO bench SELECT g, repeat(md5(g::text), 30) FROM generate_series($1::bigint, $2::bigint) g",
        [state.nextId, state.nextId + rows - 1],
      );
      state.nextId += rows;
      size = await databaseSize(c);
    }
    await c.query("CHECKPOINT");
    return size;
  });
}

async function databaseSize(c: pg.Client): Promise<number> {
  const r = await c.query<{ s: string }>("SELECT pg_database_size(current_database()) AS s");
  return Number(r.rows[0].s);
}
