import { quoteIdent } from "../../core/names.ts";
import { type ChangesSubscription, quoteType, type TableView } from "./catalog.ts";
import type { Change, TextRow } from "./feed.ts";
import { matches } from "./filter.ts";

const NUMBER = new Set(["int2", "int4", "int8", "float4", "float8", "numeric", "oid"]);

/** One value as walrus puts it in JSON: numbers, booleans and JSON typed, the rest as text. */
function jsonValue(type: string, text: string | null): unknown {
  if (text === null) return null;
  if (type === "bool") return text === "t";
  if (NUMBER.has(type)) {
    const n = Number(text);
    return Number.isFinite(n) ? n : text;
  }
  if (type === "json" || type === "jsonb") {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

function visible(view: TableView, row: TextRow | null, only?: readonly string[]) {
  if (!row) return {};
  const out: Record<string, unknown> = {};
  for (const c of view.columns) {
    if (!view.selectable.has(c.name) || !(c.name in row)) continue;
    if (only && !only.includes(c.name)) continue;
    out[c.name] = jsonValue(c.type, row[c.name]);
  }
  return out;
}

/**
 * The `data` of a postgres_changes message for one subscriber, in Supabase's shape: only the
 * columns its role may read; an UPDATE's old_record is the old row (replica identity full)
 * or its key; a DELETE on an RLS table carries the key only (RLS cannot be checked on a
 * row that is gone, so Supabase sends no more).
 */
export function changeData(change: Change, view: TableView) {
  const keyOnly = change.type === "DELETE" && view.checkRls ? change.keyColumns : undefined;
  const oldRow =
    change.type === "INSERT"
      ? null
      : (change.old ?? (change.record && pick(change.record, change.keyColumns)));
  return {
    schema: change.schema,
    table: change.table,
    commit_timestamp: change.commitTimestamp,
    type: change.type,
    columns: view.columns.filter((c) => view.selectable.has(c.name)),
    ...(change.type !== "DELETE" ? { record: visible(view, change.record) } : {}),
    ...(change.type !== "INSERT" ? { old_record: visible(view, oldRow, keyOnly) } : {}),
    errors: null,
  };
}

function pick(row: TextRow, keys: readonly string[]): TextRow {
  return Object.fromEntries(keys.filter((k) => k in row).map((k) => [k, row[k]]));
}

/** The ids of a member's subscriptions a change matches (event, table, filter). */
export function matchingIds(subs: readonly ChangesSubscription[], change: Change): number[] {
  const row = change.type === "DELETE" ? change.old : change.record;
  return subs
    .filter((s) => {
      const view = s.tables.get(change.relationOid);
      if (!view || (s.event !== "*" && s.event !== change.type)) return false;
      if (s.conds.length === 0) return true;
      const typeOf = (col: string) => view.columns.find((c) => c.name === col)?.type ?? "text";
      return row !== null && matches(s.conds, row, typeOf);
    })
    .map((s) => s.id);
}

/**
 * The RLS check walrus makes: does a SELECT of this row by its key, run as the subscriber,
 * return it? Null when the table has no key to find the row by (nothing is delivered then).
 */
export function visibilitySql(
  change: Change,
  view: TableView,
): { sql: string; params: string[] } | null {
  const row = change.record;
  if (!row || change.keyColumns.length === 0) return null;
  const conds: string[] = [];
  const params: string[] = [];
  for (const k of change.keyColumns) {
    const type = view.columns.find((c) => c.name === k)?.type;
    const v = row[k];
    if (!type || v === null || v === undefined) return null;
    params.push(v);
    conds.push(`${quoteIdent(k)} = $${params.length}::text::${quoteType(type)}`);
  }
  return {
    sql: `SELECT 1 FROM ${quoteIdent(view.schema)}.${quoteIdent(view.table)} WHERE ${conds.join(" AND ")}`,
    params,
  };
}
