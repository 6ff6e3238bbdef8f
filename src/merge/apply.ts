import type pg from "pg";
import { BoughError } from "../core/errors.ts";
import { snapshotHash } from "./catalog/equality.ts";
import { introspect } from "./introspect/index.ts";
import { type Migration, runAndRecord } from "./migrations.ts";

/** The part of a planned statement apply needs. */
export interface ApplyStatement {
  sql: string;
  objectId: string;
}

export interface ApplyInput {
  migrations: Migration[];
  statements: ApplyStatement[];
  /**
   * snapshotHash of the target's schema the plan was made for; checked inside the
   * transaction, so a target that moved since planning is never written to.
   */
  expectedHash: string | null;
  lockTimeoutMs: number;
  /**
   * Runs after the statements, inside the transaction, just before COMMIT: an undo
   * restores rows there; a merge reads the WAL position its undo recovers to.
   */
  beforeCommit?: (client: pg.ClientBase) => Promise<void>;
}

export type ApplyOutcome = { applied: true } | { applied: false; reason: "stale" };

/**
 * Runs a merge's migrations and statements on a database in ONE transaction: all of
 * them commit, or none does. A failing statement rolls everything back and is
 * reported with the object it was changing and Postgres' own message.
 */
export async function applyInTransaction(
  client: pg.ClientBase,
  input: ApplyInput,
): Promise<ApplyOutcome> {
  await client.query("BEGIN");
  try {
    await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.floor(input.lockTimeoutMs))}`);
    // Function bodies may name objects created later in the same plan (as pg_dump does).
    await client.query("SET LOCAL check_function_bodies = off");
    if (input.expectedHash !== null) {
      const now = snapshotHash(await introspect(client));
      if (now !== input.expectedHash) {
        await client.query("ROLLBACK");
        return { applied: false, reason: "stale" };
      }
    }
    for (const m of input.migrations) await runAndRecord(client, m);
    for (const [i, st] of input.statements.entries()) {
      try {
        await client.query(st.sql);
      } catch (err) {
        throw statementError(err, st, i);
      }
    }
    await input.beforeCommit?.(client);
    await client.query("COMMIT");
    return { applied: true };
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {});
    throw err;
  }
}

export function statementError(err: unknown, st: ApplyStatement, index: number): BoughError {
  const e = err as Error & { detail?: string; hint?: string; code?: string };
  const lines = [`statement ${index + 1} (${st.objectId}) failed: ${e.message}`];
  if (e.detail) lines.push(`detail: ${e.detail}`);
  lines.push(`statement: ${st.sql}`);
  const lockTimeout = e.code === "55P03";
  return new BoughError(
    "MERGE_FAILED",
    lines.join("\n"),
    lockTimeout
      ? "the parent was busy (lock timeout): nothing was changed; retry when its long transactions end"
      : (e.hint ??
          "nothing was changed on the parent; fix the branch (or the parent's data) and merge again"),
    { objectId: st.objectId, sql: st.sql, pgCode: e.code },
  );
}
