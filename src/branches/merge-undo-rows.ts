import type pg from "pg";
import { quoteIdent } from "../core/names.ts";
import { type ApplyStatement, statementError } from "../merge/apply.ts";
import type { ColumnObject, Snapshot, TableObject } from "../merge/catalog/snapshot.ts";
import type { Change } from "../merge/diff/changes.ts";
import { withClient } from "./sql.ts";

/**
 * Rows an undo brings back from the target's recovered pre-merge state: every row of a
 * table the merge dropped, and the values of columns it dropped (matched by primary
 * key). Config tables whose rows the snapshot carries are restored by the diff itself.
 */
export interface RowRestore {
  /** table:S.T, or the restored columns' table for a column restore. */
  objectId: string;
  kind: "table" | "columns";
  schema: string;
  table: string;
  /** Written columns with their types (generated columns are computed, never written). */
  columns: { name: string; type: string }[];
  /** The primary key, matching rows of a column restore. */
  key: { name: string; type: string }[];
}

export interface RestorePlan {
  restores: RowRestore[];
  notRestored: string[];
}

const rel = (schema: string, table: string) => `${quoteIdent(schema)}.${quoteIdent(table)}`;
const typed = (c: ColumnObject) => ({ name: c.name, type: c.type });

/** What the undo's changes re-create that held rows, read against the recovered state (pre). */
export async function planRowRestores(
  preUrl: string,
  o: { pre: Snapshot; changes: Change[] },
): Promise<RestorePlan> {
  const created = new Set(o.changes.filter((c) => c.type === "create").map((c) => c.id));
  const columnsOf = (schema: string, table: string) =>
    Object.values(o.pre.objects)
      .filter(
        (x): x is ColumnObject =>
          x.kind === "column" && x.schema === schema && x.table === table && !x.generated,
      )
      .sort((a, b) => a.position - b.position);
  const restores: RowRestore[] = [];
  const notRestored: string[] = [];
  const carried = (t: { schema: string; name: string }) =>
    o.pre.data[`${t.schema}.${t.name}`] !== undefined;
  const tables = Object.values(o.pre.objects).filter(
    (x): x is TableObject => x.kind === "table" && created.has(x.id),
  );
  for (const t of tables) {
    // A partitioned table's rows are its partitions', restored with each of them.
    if (t.partitionBy !== null || carried(t)) continue;
    restores.push({
      objectId: t.id,
      kind: "table",
      schema: t.schema,
      table: t.name,
      columns: columnsOf(t.schema, t.name).map(typed),
      key: [],
    });
  }
  const restoredTables = new Set(tables.map((t) => `${t.schema}.${t.name}`));
  const byTable = new Map<string, ColumnObject[]>();
  for (const id of created) {
    const c = o.pre.objects[id];
    if (c?.kind !== "column" || c.generated || c.inherited) continue;
    const key = `${c.schema}.${c.table}`;
    if (restoredTables.has(key) || o.pre.data[key]) continue;
    if (c.identity === "always") {
      notRestored.push(
        `${c.id}: a GENERATED ALWAYS identity cannot be updated; added back, it numbers the rows anew`,
      );
      continue;
    }
    byTable.set(key, [...(byTable.get(key) ?? []), c]);
  }
  if (byTable.size === 0) return { restores, notRestored };
  await withClient(preUrl, async (client) => {
    for (const cols of byTable.values()) {
      const { schema, table } = cols[0];
      const key = await primaryKeyOf(client, schema, table);
      const ids = cols.map((c) => c.id).join(", ");
      if (key.length === 0) {
        notRestored.push(`${ids}: ${schema}.${table} has no primary key to match rows by`);
        continue;
      }
      restores.push({
        objectId: ids,
        kind: "columns",
        schema,
        table,
        columns: cols.map(typed),
        key,
      });
    }
  });
  return { restores, notRestored };
}

async function primaryKeyOf(client: pg.ClientBase, schema: string, table: string) {
  const r = await client.query<{ name: string; type: string }>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
       FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
      WHERE i.indrelid = $1::regclass AND i.indisprimary
      ORDER BY array_position(i.indkey::int2[], a.attnum)`,
    [rel(schema, table)],
  );
  return r.rows;
}

/** The SQL each restore runs on the target, as the preview shows it ($1: a batch of rows as JSON arrays of text). */
export function restoreSql(r: RowRestore): string {
  const cell = (i: number, type: string) => `(x.r->>${i})::${type}`;
  if (r.kind === "table") {
    const names = r.columns.map((c) => quoteIdent(c.name)).join(", ");
    const values = r.columns.map((c, i) => cell(i, c.type)).join(", ");
    return `INSERT INTO ${rel(r.schema, r.table)} (${names}) OVERRIDING SYSTEM VALUE SELECT ${values} FROM jsonb_array_elements($1::jsonb) AS x(r)`;
  }
  const n = r.key.length;
  const sets = r.columns.map((c, i) => `${quoteIdent(c.name)} = ${cell(n + i, c.type)}`);
  const match = r.key.map((k, i) => `t.${quoteIdent(k.name)} = ${cell(i, k.type)}`);
  return `UPDATE ${rel(r.schema, r.table)} AS t SET ${sets.join(", ")} FROM jsonb_array_elements($1::jsonb) AS x(r) WHERE ${match.join(" AND ")}`;
}

/** What reads the rows on the recovered state, each as an array of text. */
function readSql(r: RowRestore): string {
  const cols = [...r.key, ...r.columns].map((c) => `${quoteIdent(c.name)}::text`);
  // ONLY: an inheritance child's rows are restored with the child itself.
  const from = r.kind === "table" ? `ONLY ${rel(r.schema, r.table)}` : rel(r.schema, r.table);
  return `SELECT ARRAY[${cols.join(", ")}]::text[] AS r FROM ${from}`;
}

const BATCH = 2000;

/**
 * Copies the rows of each restore from the recovered state into the target's open
 * transaction, triggers off (session_replication_role = replica: restored rows come back
 * as they were, no user trigger rewrites them), then sets the sequences of restored
 * columns to their pre-merge values and runs the deferred statements (foreign keys,
 * which validate the restored rows). Returns rows written per restore.
 */
export async function restoreRows(
  target: pg.ClientBase,
  o: { preUrl: string; plan: RestorePlan; after: ApplyStatement[]; offset: number },
): Promise<{ objectId: string; rows: number }[]> {
  const done: { objectId: string; rows: number }[] = [];
  await target.query("SET LOCAL session_replication_role = replica");
  await withClient(o.preUrl, async (pre) => {
    await pre.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    for (const r of o.plan.restores) {
      let rows = 0;
      await pre.query(`DECLARE undo_rows NO SCROLL CURSOR FOR ${readSql(r)}`);
      const write = restoreSql(r);
      for (;;) {
        const batch = await pre.query<{ r: (string | null)[] }>(`FETCH ${BATCH} FROM undo_rows`);
        if (batch.rows.length === 0) break;
        const res = await target.query(write, [JSON.stringify(batch.rows.map((x) => x.r))]);
        rows += res.rowCount ?? 0;
      }
      await pre.query("CLOSE undo_rows");
      for (const c of r.columns) await syncSequence(pre, target, r, c.name);
      done.push({ objectId: r.objectId, rows });
    }
    await pre.query("COMMIT");
  });
  await target.query("SET LOCAL session_replication_role = DEFAULT");
  for (const [i, st] of o.after.entries()) {
    try {
      await target.query(st.sql);
    } catch (err) {
      throw statementError(err, st, o.offset + i);
    }
  }
  return done;
}

/** A serial or identity column's sequence goes on from where it was, not from its start. */
async function syncSequence(
  pre: pg.ClientBase,
  target: pg.ClientBase,
  r: RowRestore,
  column: string,
): Promise<void> {
  const args = [rel(r.schema, r.table), column];
  // Null: no sequence, or one never called (a new one is not called either).
  const v = await pre.query<{ v: string | null }>(
    `SELECT pg_sequence_last_value(s::regclass)::text AS v
       FROM pg_get_serial_sequence($1, $2) AS s WHERE s IS NOT NULL`,
    args,
  );
  if (v.rows.length === 0 || v.rows[0].v === null) return;
  await target.query("SELECT setval(pg_get_serial_sequence($1, $2), $3::bigint, true)", [
    ...args,
    v.rows[0].v,
  ]);
}

/** Preview lines of the row restore (the [DATA] of an undo beside its statements). */
export function restorePreview(plan: RestorePlan, deferred: ApplyStatement[]): string {
  const lines = ["", "-- [RESTORE] rows the merge dropped, copied from the pre-merge state"];
  if (plan.restores.length === 0) lines.push("-- (nothing)");
  for (const r of plan.restores) {
    lines.push(
      `-- ${r.kind === "table" ? "every row of" : "values by primary key of"} ${r.objectId} (triggers off), in batches of ${BATCH}`,
      `${restoreSql(r)};`,
    );
  }
  for (const n of plan.notRestored) lines.push(`-- ⚠️ not restored: ${n}`);
  if (deferred.length > 0)
    lines.push(
      `-- then, validating the restored rows: ${deferred.map((s) => s.objectId).join(", ")}`,
    );
  return `${lines.join("\n")}\n`;
}
