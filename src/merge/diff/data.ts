import { stableStringify } from "../catalog/equality.ts";
import type { DataTable, Snapshot, TablePolicy } from "../catalog/snapshot.ts";
import {
  byString,
  type DataChange,
  type PolicyConflict,
  type Row,
  type RowConflict,
  rowId,
  tablePolicyId,
} from "./changes.ts";
import { POLICY_HINT, ROW_HINT } from "./hints.ts";
import { mergeRow, refuseMergeRows } from "./merge-rows.ts";

export interface DataDiff {
  branch: DataChange[];
  parent: DataChange[];
  conflicts: (RowConflict | PolicyConflict)[];
}

const same = (a: unknown, b: unknown) => stableStringify(a ?? null) === stableStringify(b ?? null);

/** Merge policies (rows of bough.table_policies) compared three ways, by table. */
export function diffPolicies(base: Snapshot, parent: Snapshot, branch: Snapshot): DataDiff {
  const out: DataDiff = { branch: [], parent: [], conflicts: [] };
  const tables = new Set([
    ...Object.keys(base.policies),
    ...Object.keys(parent.policies),
    ...Object.keys(branch.policies),
  ]);
  for (const table of [...tables].sort(byString)) {
    const b = base.policies[table];
    const p = parent.policies[table];
    const r = branch.policies[table];
    const id = tablePolicyId(table);
    const branchChanged = !same(b, r);
    const parentChanged = !same(b, p);
    if (!branchChanged) {
      if (parentChanged) out.parent.push(policyChange(id, table, b, p));
    } else if (!parentChanged) {
      out.branch.push(policyChange(id, table, p, r));
    } else if (!same(p, r)) {
      out.conflicts.push({
        type: "policy-conflict",
        id,
        table,
        base: b ?? null,
        parent: p ?? null,
        branch: r ?? null,
        hint: POLICY_HINT,
      });
    }
  }
  return out;
}

function policyChange(
  id: string,
  table: string,
  before: TablePolicy | undefined,
  after: TablePolicy | undefined,
): DataChange {
  if (after) return { type: "policy-set", id, table, before: before ?? null, after };
  if (before) return { type: "policy-delete", id, table, before, after: null };
  throw new Error(`no policy change for ${table}`);
}

/**
 * Rows of upsert- and merge-rows-policy tables, compared three ways by key. Rows are only
 * known where the table has such a policy: a table without rows on the branch changes
 * nothing; without rows on the parent, the parent counts as unchanged since T0; without
 * rows at T0, T0 counts as empty (merge-rows refuses that when the table existed at T0).
 * Excluded columns (secrets) are stripped on every side. A row both sides changed is a
 * conflict, except in merge-rows tables where only the cells both sides changed are.
 */
export function diffRows(base: Snapshot, parent: Snapshot, branch: Snapshot): DataDiff {
  const out: DataDiff = { branch: [], parent: [], conflicts: [] };
  const tables = new Set([...Object.keys(parent.data), ...Object.keys(branch.data)]);
  for (const table of [...tables].sort(byString)) {
    const excluded = excludedColumns(table, [base, parent, branch]);
    const r = branch.data[table];
    // Rows are matched by one key on all sides: the branch's (a key change re-keys the others).
    const keyColumns = (r ?? parent.data[table]).key;
    const b = rowsOf(base.data[table], excluded, keyColumns) ?? {};
    const p = rowsOf(parent.data[table], excluded, keyColumns);
    const rows = rowsOf(r, excluded, keyColumns);
    if (!rows) {
      // Unknown on the branch: only the parent's changes can be told.
      if (p) diffTable({ table, keyColumns, b, p, r: b, out, cells: false });
      continue;
    }
    const cells = branch.policies[table]?.policy === "merge-rows";
    if (cells) refuseMergeRows(table, { T0: base, parent, branch });
    diffTable({ table, keyColumns, b, p: p ?? b, r: rows, out, cells });
  }
  return out;
}

type Rows = Record<string, Row>;

function diffTable(o: {
  table: string;
  keyColumns: string[];
  b: Rows;
  p: Rows;
  r: Rows;
  out: DataDiff;
  /** merge-rows: a row both sides changed merges cell by cell. */
  cells: boolean;
}) {
  const { table, keyColumns, b, p, r, out } = o;
  const keys = new Set([...Object.keys(b), ...Object.keys(p), ...Object.keys(r)]);
  for (const key of [...keys].sort(byString)) {
    const id = rowId(table, key);
    const branchChanged = !same(b[key], r[key]);
    const parentChanged = !same(b[key], p[key]);
    if (!branchChanged) {
      if (parentChanged)
        out.parent.push(rowChange({ id, table, key, keyColumns, before: b[key], after: p[key] }));
    } else if (!parentChanged) {
      out.branch.push(rowChange({ id, table, key, keyColumns, before: p[key], after: r[key] }));
    } else if (o.cells && !same(p[key], r[key])) {
      const m = mergeRow({ id, table, key, b: b[key], p: p[key], r: r[key] });
      if ("conflict" in m) out.conflicts.push(m.conflict);
      else {
        out.parent.push(rowChange({ id, table, key, keyColumns, before: b[key], after: p[key] }));
        out.branch.push(rowChange({ id, table, key, keyColumns, before: p[key], after: m.merged }));
      }
    } else if (!same(p[key], r[key])) {
      out.conflicts.push({
        type: "row-conflict",
        id,
        table,
        key,
        base: b[key] ?? null,
        parent: p[key] ?? null,
        branch: r[key] ?? null,
        hint: ROW_HINT,
      });
    }
  }
}

function rowChange(o: {
  id: string;
  table: string;
  key: string;
  keyColumns: string[];
  before: Row | undefined;
  after: Row | undefined;
}): DataChange {
  const { id, table, key, keyColumns } = o;
  if (o.after)
    return {
      type: "row-upsert",
      id,
      table,
      key,
      keyColumns,
      before: o.before ?? null,
      after: o.after,
    };
  if (o.before)
    return { type: "row-delete", id, table, key, keyColumns, before: o.before, after: null };
  throw new Error(`no row change for ${id}`);
}

/** Every column any side calls secret: a value hidden on one side stays hidden everywhere. */
function excludedColumns(table: string, snaps: Snapshot[]): Set<string> {
  const out = new Set<string>();
  for (const s of snaps) {
    for (const c of s.data[table]?.excluded ?? []) out.add(c);
    for (const c of s.policies[table]?.excluded ?? []) out.add(c);
  }
  return out;
}

function rowsOf(
  t: DataTable | undefined,
  excluded: Set<string>,
  keyColumns: string[],
): Rows | undefined {
  if (!t) return undefined;
  const same = t.key.join("\u0000") === keyColumns.join("\u0000");
  const out: Rows = {};
  for (const key of Object.keys(t.rows)) {
    const row: Row = {};
    for (const col of Object.keys(t.rows[key]).sort(byString)) {
      if (!excluded.has(col)) row[col] = t.rows[key][col];
    }
    out[same ? key : JSON.stringify(keyColumns.map((k) => t.rows[key][k] ?? null))] = row;
  }
  return out;
}
