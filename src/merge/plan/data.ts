import { WIDEN_POLICY_CHECK_SQL } from "../bookkeeping.ts";
import { qualified } from "../catalog/ids.ts";
import type { Snapshot } from "../catalog/snapshot.ts";
import { byString, type Change, type DataChange } from "../diff/changes.ts";
import { deletePolicySql, deleteRowSql, setPolicySql, upsertRowSql } from "../render/sql/data.ts";
import { findTable, tableNameRef } from "../render/sql/refs.ts";
import type { Statement } from "./types.ts";

/**
 * The data layer: merge policies first (they say how rows merge), then rows table by
 * table, referenced tables first; a referenced table's deletes wait until the end, so a
 * row is re-pointed before the row it pointed to goes. Each table's rows by key. Runs
 * after the DDL, so new tables and columns exist.
 */
export function dataStatements(
  changes: Change[],
  snaps: { parent: Snapshot; branch: Snapshot },
): Statement[] {
  const data = changes.filter(
    (c): c is DataChange => c.type !== "create" && c.type !== "drop" && c.type !== "alter",
  );
  const out: Statement[] = [];
  for (const c of data) {
    // A parent made by an older bough has a CHECK that does not know merge-rows yet.
    const widen = c.type === "policy-set" && c.after.policy === "merge-rows";
    if (c.type === "policy-set")
      out.push(
        statement(c, `${widen ? `${WIDEN_POLICY_CHECK_SQL}\n` : ""}${setPolicySql(c.after)}`, []),
      );
    if (c.type === "policy-delete") out.push(statement(c, deletePolicySql(c.table), []));
  }
  const { order, referenced } = fkOrder(
    [
      ...new Set(
        data.filter((c) => c.type === "row-upsert" || c.type === "row-delete").map((c) => c.table),
      ),
    ],
    snaps.branch,
  );
  const rows = (table: string, type: Change["type"]) =>
    data.filter((c) => c.table === table && c.type === type).sort((a, b) => byString(a.id, b.id));
  const upserts = (table: string) => {
    const shape = writable(table, snaps);
    // merge-rows: an existing row gets only the cells that change, so the parent's own stay.
    const cells = snaps.branch.policies[table]?.policy === "merge-rows";
    for (const c of rows(table, "row-upsert")) {
      if (c.type !== "row-upsert") continue;
      const { before, after } = c;
      const sql = upsertRowSql({
        table: tableNameRef(table, [snaps.branch, snaps.parent]),
        keyColumns: c.keyColumns,
        columns: Object.keys(c.after)
          .filter((col) => shape.writable(col))
          .sort(byString),
        row: c.after,
        overriding: shape.overriding,
        fixed: shape.fixed,
        update:
          cells && before
            ? Object.keys(after).filter((col) => after[col] !== before[col])
            : undefined,
      });
      out.push(statement(c, sql, c.before ? ["overwrites-data"] : []));
    }
  };
  const deletes = (table: string) => {
    for (const c of rows(table, "row-delete")) {
      if (c.type !== "row-delete") continue;
      const table_ = tableNameRef(table, [snaps.branch, snaps.parent]);
      out.push(
        statement(c, deleteRowSql({ table: table_, keyColumns: c.keyColumns, key: c.key }), [
          "deletes-data",
        ]),
      );
    }
  };
  // A table other config tables reference loses rows last (after they are re-pointed);
  // any other table loses rows before it gains new ones (a new key may reuse a unique value).
  const late: string[] = [];
  for (const table of order) {
    if (referenced.has(table)) {
      upserts(table);
      late.unshift(table);
    } else {
      deletes(table);
      upserts(table);
    }
  }
  for (const table of late) deletes(table);
  return out;
}

function statement(c: DataChange, sql: string, hazards: Statement["hazards"]): Statement {
  return { layer: "data", sql, objectId: c.id, changeKind: c.type, hazards, notes: [] };
}

/** Which columns an INSERT may name (never secrets, never generated ones), and whether identity ALWAYS needs OVERRIDING. */
function writable(table: string, snaps: { parent: Snapshot; branch: Snapshot }) {
  const secret = new Set([
    ...(snaps.branch.data[table]?.excluded ?? []),
    ...(snaps.branch.policies[table]?.excluded ?? []),
    ...(snaps.parent.data[table]?.excluded ?? []),
    ...(snaps.parent.policies[table]?.excluded ?? []),
  ]);
  const t = findTable(table, [snaps.branch]);
  const columns = new Map<string, { generated: boolean; always: boolean }>();
  if (t) {
    for (const o of Object.values(snaps.branch.objects)) {
      if (o.kind === "column" && o.schema === t.schema && o.table === t.name) {
        columns.set(o.name, { generated: o.generated !== null, always: o.identity === "always" });
      }
    }
  }
  return {
    writable: (c: string) => !secret.has(c) && !columns.get(c)?.generated,
    overriding: [...columns.values()].some((c) => c.always),
    fixed: [...columns.entries()].filter(([, c]) => c.always).map(([name]) => name),
  };
}

/** Config tables with referenced tables first (foreign keys between them), else by name; and which are referenced. */
function fkOrder(tables: string[], branch: Snapshot): { order: string[]; referenced: Set<string> } {
  const ids = new Map<string, string>();
  for (const t of tables) {
    const obj = findTable(t, [branch]);
    if (obj) ids.set(qualified(obj.schema, obj.name), t);
  }
  const refs = new Map<string, Set<string>>(tables.map((t) => [t, new Set<string>()]));
  const referenced = new Set<string>();
  for (const o of Object.values(branch.objects)) {
    if (o.kind !== "constraint" || o.type !== "f" || !o.references) continue;
    const from = ids.get(qualified(o.schema, o.table));
    const to = ids.get(o.references);
    if (from && to && from !== to) {
      refs.get(from)?.add(to);
      referenced.add(to);
    }
  }
  const order: string[] = [];
  const visiting = new Set<string>();
  const visit = (t: string) => {
    if (order.includes(t) || visiting.has(t)) return;
    visiting.add(t);
    for (const r of [...(refs.get(t) ?? [])].sort(byString)) visit(r);
    order.push(t);
  };
  for (const t of [...tables].sort(byString)) visit(t);
  return { order, referenced };
}
