import { quoteIdent } from "../../../core/names.ts";
import type { TablePolicy } from "../../catalog/snapshot.ts";
import type { Row } from "../../diff/changes.ts";
import { lit } from "./refs.ts";

const value = (v: string | null) => (v === null ? "NULL" : lit(v));

/**
 * INSERT ... ON CONFLICT (key) DO UPDATE for one config row. Values are text literals
 * that Postgres casts to each column's type. `columns` is what may be written (no
 * excluded, no generated columns); `overriding` for GENERATED ALWAYS identity columns.
 */
export function upsertRowSql(o: {
  table: string;
  keyColumns: string[];
  columns: string[];
  row: Row;
  overriding: boolean;
  /** GENERATED ALWAYS identity columns: inserted with OVERRIDING, never updated (Postgres refuses). */
  fixed?: string[];
  /** Columns an existing row gets (merge-rows: the cells that change); default all but key and fixed. */
  update?: string[];
}): string {
  const cols = o.columns.filter((c) => c in o.row);
  const values = cols.map((c) => value(o.row[c]));
  const rest = cols.filter(
    (c) =>
      !o.keyColumns.includes(c) && !o.fixed?.includes(c) && (!o.update || o.update.includes(c)),
  );
  const action =
    rest.length > 0
      ? `DO UPDATE SET ${rest.map((c) => `${quoteIdent(c)} = EXCLUDED.${quoteIdent(c)}`).join(", ")}`
      : "DO NOTHING";
  const overriding = o.overriding ? " OVERRIDING SYSTEM VALUE" : "";
  return `INSERT INTO ${o.table} (${cols.map(quoteIdent).join(", ")})${overriding} VALUES (${values.join(", ")}) ON CONFLICT (${o.keyColumns.map(quoteIdent).join(", ")}) ${action};`;
}

/** DELETE of one config row by its key values (JSON array of text or null). */
export function deleteRowSql(o: { table: string; keyColumns: string[]; key: string }): string {
  const values = JSON.parse(o.key) as (string | null)[];
  const where = o.keyColumns.map((c, i) =>
    values[i] === null || values[i] === undefined
      ? `${quoteIdent(c)} IS NULL`
      : `${quoteIdent(c)} = ${lit(values[i] as string)}`,
  );
  return `DELETE FROM ${o.table} WHERE ${where.join(" AND ")};`;
}

const textArray = (xs: string[]) =>
  xs.length > 0 ? `ARRAY[${xs.map(lit).join(", ")}]::text[]` : "'{}'::text[]";

/** The policy row in bough.table_policies (bough's own bookkeeping table). */
export function setPolicySql(p: TablePolicy): string {
  return (
    `INSERT INTO bough.table_policies (table_name, policy, key_columns, excluded_columns) ` +
    `VALUES (${lit(p.table)}, ${lit(p.policy)}, ${textArray(p.key)}, ${textArray(p.excluded)}) ` +
    "ON CONFLICT (table_name) DO UPDATE SET policy = EXCLUDED.policy, key_columns = EXCLUDED.key_columns, excluded_columns = EXCLUDED.excluded_columns;"
  );
}

export function deletePolicySql(table: string): string {
  return `DELETE FROM bough.table_policies WHERE table_name = ${lit(table)};`;
}
