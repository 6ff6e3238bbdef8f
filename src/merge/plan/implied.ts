import { stableStringify } from "../catalog/equality.ts";
import { tableId } from "../catalog/ids.ts";
import type { ColumnObject, DbObject, Snapshot } from "../catalog/snapshot.ts";
import { byString } from "../diff/changes.ts";
import type { ActionMap } from "./actions.ts";
import { ownersOf } from "./owners.ts";

/**
 * Marks what Postgres does by itself so no statement repeats it: the columns of a table
 * being created are in its CREATE TABLE; a column inherited from a parent appears, and
 * follows type / NOT NULL / default changes, with the parent's column; a partition's
 * constraints change hands with DETACH / ATTACH PARTITION.
 */
export function markImplied(
  actions: ActionMap,
  snaps: { parent: Snapshot; branch: Snapshot },
): void {
  const columnsByTable = new Map<string, ColumnObject[]>();
  for (const id of Object.keys(snaps.branch.objects).sort(byString)) {
    const o = snaps.branch.objects[id];
    if (o.kind !== "column") continue;
    const t = tableId(o.schema, o.table);
    columnsByTable.set(t, [...(columnsByTable.get(t) ?? []), o]);
  }
  for (const a of [...actions.values()].sort((x, y) => byString(x.id, y.id))) {
    if ((a.mode === "create" || a.mode === "recreate") && a.after.kind === "table") {
      for (const c of columnsByTable.get(a.id) ?? []) {
        actions.set(c.id, { mode: "implied", id: c.id, after: c, by: a.id });
      }
    }
  }
  for (const a of [...actions.values()].sort((x, y) => byString(x.id, y.id))) {
    if (
      (a.mode === "alter" || a.mode === "recreate") &&
      a.after.kind === "constraint" &&
      a.before.kind === "constraint" &&
      a.before.inherited !== a.after.inherited &&
      a.before.type === a.after.type &&
      a.before.definition === a.after.definition
    ) {
      // DETACH PARTITION leaves a partition's inherited keys, checks and foreign keys as its
      // own; ATTACH PARTITION adopts the matching ones (a key's index is attached to the
      // parent's): neither is dropped nor created again.
      const table = tableId(a.after.schema, a.after.table);
      const t = actions.get(table);
      if (
        t?.mode === "alter" &&
        t.before.kind === "table" &&
        t.after.kind === "table" &&
        t.before.partitionOf?.parent !== t.after.partitionOf?.parent
      ) {
        actions.set(a.id, { mode: "implied", id: a.id, after: a.after, by: table });
      }
      continue;
    }
    if (a.mode === "create" && a.after.kind === "column" && a.after.inherited) {
      const parent = parentColumnAction(a.after, actions, snaps.branch);
      if (parent) actions.set(a.id, { mode: "implied", id: a.id, after: a.after, by: parent });
    }
    if (
      a.mode === "alter" &&
      a.after.kind === "column" &&
      a.before.kind === "column" &&
      !a.before.inherited &&
      a.after.inherited
    ) {
      // A local column becomes inherited only by going away before the parent's column is added.
      const parent = parentColumnAction(a.after, actions, snaps.branch);
      if (parent && actions.get(parent)?.mode === "create") {
        const notes = [
          "the column becomes inherited from the parent table's new column: dropped here, added back by the parent",
        ];
        actions.set(a.id, {
          mode: "replaced",
          id: a.id,
          before: a.before,
          after: a.after,
          by: parent,
          label: a.label,
          notes,
        });
      }
      continue;
    }
    if (
      a.mode === "alter" &&
      a.after.kind === "column" &&
      a.before.kind === "column" &&
      a.before.inherited &&
      a.after.inherited
    ) {
      const parent = parentColumnAction(a.after, actions, snaps.branch);
      const p = parent ? actions.get(parent) : undefined;
      if (p?.mode !== "alter" || p.before.kind !== "column" || p.after.kind !== "column") continue;
      const before = followParent(a.before, { before: p.before, after: p.after }, a.after);
      if (sameColumn(before, a.after))
        actions.set(a.id, { mode: "implied", id: a.id, after: a.after, by: parent as string });
      else a.before = before;
    }
  }
}

/** The parent table's column (of an inherited column) that has an action of its own. */
function parentColumnAction(
  c: ColumnObject,
  actions: ActionMap,
  branch: Snapshot,
): string | undefined {
  const owners = ownersOf(c, branch).filter((id) => id.startsWith("column:"));
  return owners.find((id) => actions.has(id));
}

const FOLLOWED = ["type", "collation", "notNull", "default"] as const;

/** `before` with the fields the parent's ALTER already carries to this column set to their new value. */
function followParent(
  before: ColumnObject,
  parent: { before: ColumnObject; after: ColumnObject },
  after: ColumnObject,
) {
  const out: ColumnObject = { ...before };
  for (const f of FOLLOWED) {
    if (parent.before[f] === before[f] && parent.after[f] === after[f]) {
      (out as unknown as Record<string, unknown>)[f] = after[f];
    }
  }
  return out;
}

function sameColumn(a: DbObject, b: DbObject): boolean {
  if (a.kind !== "column" || b.kind !== "column") return false;
  return (
    FOLLOWED.every((f) => a[f] === b[f]) &&
    a.identity === b.identity &&
    stableStringify(a.identityOptions) === stableStringify(b.identityOptions) &&
    a.generated === b.generated &&
    a.generatedKind === b.generatedKind &&
    // Set with ONLY (render/sql/column.ts): the parent's statement does not carry them.
    a.storage === b.storage &&
    a.statisticsTarget === b.statisticsTarget
  );
}
