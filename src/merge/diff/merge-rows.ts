import { BoughError } from "../../core/errors.ts";
import { configTableId } from "../catalog/ids.ts";
import { MERGE_ROWS_LIMIT, type Snapshot } from "../catalog/snapshot.ts";
import type { CellConflict, Row, RowConflict } from "./changes.ts";
import { ROW_CELLS_HINT, ROW_DELETE_HINT } from "./hints.ts";

/** A row cell (column → value) as one side has it; undefined when the row or column is absent. */
const cell = (r: Row | undefined, c: string) => (r && c in r ? r[c] : undefined);

/**
 * A row both sides changed, of a merge-rows table: cells changed on one side only merge
 * (the result is T0 with each side's cell changes on top); the same cell changed to two
 * values, a delete against an update, or two inserts that differ are a conflict listing
 * the cells in question. The conflict keeps both full rows (taking a side takes its row).
 */
export function mergeRow(o: {
  id: string;
  table: string;
  key: string;
  b: Row | undefined;
  p: Row | undefined;
  r: Row | undefined;
}): { merged: Row } | { conflict: RowConflict } {
  const { b, p, r } = o;
  const conflict = (cells: CellConflict[] | undefined, hint: string) => ({
    conflict: {
      type: "row-conflict" as const,
      id: o.id,
      table: o.table,
      key: o.key,
      base: b ?? null,
      parent: p ?? null,
      branch: r ?? null,
      ...(cells ? { cells } : {}),
      hint,
    },
  });
  // One side deleted what the other changed (or both deleted: no conflict, same result).
  if (b && (!p || !r)) return conflict(undefined, ROW_DELETE_HINT);
  const columns = [
    ...new Set([...Object.keys(b ?? {}), ...Object.keys(p ?? {}), ...Object.keys(r ?? {})]),
  ].sort();
  const merged: Row = {};
  const cells: CellConflict[] = [];
  for (const c of columns) {
    const [bc, pc, rc] = [cell(b, c), cell(p, c), cell(r, c)];
    const value = rc !== bc ? rc : pc;
    if (rc !== bc && pc !== bc && pc !== rc)
      cells.push({ column: c, base: bc ?? null, parent: pc ?? null, branch: rc ?? null });
    if (value !== undefined) merged[c] = value;
  }
  if (cells.length > 0) return conflict(cells, ROW_CELLS_HINT);
  return { merged };
}

/**
 * Why the rows of a merge-rows table cannot be merged, as an error that names the table
 * and the side; or nothing. T0 must have its rows when the table existed then: a policy
 * set after the branch was made has no T0 rows to compare with, and treating them as
 * empty would overwrite every row the parent changed.
 */
export function refuseMergeRows(
  table: string,
  snaps: Record<"T0" | "parent" | "branch", Snapshot>,
): void {
  for (const [side, s] of Object.entries(snaps)) {
    const refused = s.data[table]?.refused;
    if (refused) {
      throw new BoughError(
        "INVALID_INPUT",
        `bough cannot merge the rows of ${table} (policy merge-rows): on ${side === "T0" ? "the branch's T0" : `the ${side}`}, ${refused}`,
        `give the table a primary key (merge-rows matches rows by it; at most ${MERGE_ROWS_LIMIT} rows), or change its policy: bough table-policy set ${table} upsert --key COLS, or ignore`,
      );
    }
  }
  const { T0 } = snaps;
  const existed = T0.objects[configTableId(table, (id) => T0.objects[id]?.kind === "table")];
  if (existed && !T0.data[table]) {
    throw new BoughError(
      "INVALID_INPUT",
      `bough cannot merge the rows of ${table}: its merge-rows policy is newer than the branch's T0, so its rows at T0 are unknown`,
      `set the policy on the parent first (bough table-policy set ${table} merge-rows --branch PARENT), then make the row changes on a branch created after that`,
    );
  }
}
