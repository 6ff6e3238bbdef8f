import { createHash } from "node:crypto";
import type pg from "pg";
import { BoughError } from "../core/errors.ts";
import { ensureBookkeeping } from "./bookkeeping.ts";
import { executableSql } from "./migration-sql.ts";

/** A migration recorded in a branch's bough.migrations. */
export interface Migration {
  name: string;
  checksum: string;
  sql: string;
}

export const checksumOf = (sql: string) => createHash("sha256").update(sql).digest("hex");

export async function listMigrations(client: pg.ClientBase): Promise<Migration[]> {
  const exists = await client.query("SELECT to_regclass('bough.migrations') IS NOT NULL AS ok");
  if (!exists.rows[0].ok) return [];
  const r = await client.query<Migration>(
    "SELECT name, checksum, sql FROM bough.migrations ORDER BY id",
  );
  return r.rows;
}

/**
 * The branch's migrations the parent lacks, in the branch's order. A migration of the
 * same name with different SQL on both sides cannot be merged: it is reported, not guessed.
 */
export function pendingMigrations(
  branch: Migration[],
  parent: Migration[],
): { pending: Migration[]; mismatched: { name: string; branch: Migration; parent: Migration }[] } {
  const byName = new Map(parent.map((m) => [m.name, m]));
  const pending: Migration[] = [];
  const mismatched: { name: string; branch: Migration; parent: Migration }[] = [];
  for (const m of branch) {
    const p = byName.get(m.name);
    if (!p) pending.push(m);
    else if (p.checksum !== m.checksum) mismatched.push({ name: m.name, branch: m, parent: p });
  }
  return { pending, mismatched };
}

/**
 * Runs a migration's SQL and records it; the caller owns the transaction. The text is
 * checked here, wherever it comes from (a branch can write bough.migrations directly),
 * so nothing in it can end the caller's transaction (see executableSql).
 */
export async function runAndRecord(client: pg.ClientBase, m: Migration): Promise<void> {
  const sql = await executableSql(m);
  try {
    await client.query(sql);
  } catch (err) {
    const e = err as Error & { position?: string };
    throw new BoughError(
      "MIGRATION_FAILED",
      `migration "${m.name}" failed: ${e.message}${e.position ? ` (at character ${e.position})` : ""}`,
      "fix the SQL and apply it again; nothing of it was kept",
    );
  }
  await client.query("INSERT INTO bough.migrations (name, checksum, sql) VALUES ($1, $2, $3)", [
    m.name,
    m.checksum,
    m.sql,
  ]);
}

/**
 * Applies one migration file to a database in a single transaction, recording it.
 * Re-applying the same file is a no-op; the same name with other SQL is refused.
 */
export async function applyMigration(
  client: pg.ClientBase,
  m: Migration,
): Promise<{ applied: boolean }> {
  await ensureBookkeeping(client);
  const existing = (await listMigrations(client)).find((x) => x.name === m.name);
  if (existing) {
    if (existing.checksum === m.checksum) return { applied: false };
    throw new BoughError(
      "MIGRATION_FAILED",
      `a different migration named "${m.name}" is already applied on this branch`,
      "give the new migration its own file name",
    );
  }
  await client.query("BEGIN");
  try {
    await runAndRecord(client, m);
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK");
    throw err;
  }
  return { applied: true };
}
