import { tableId } from "../../catalog/ids.ts";
import type { ColumnObject, Snapshot, TableObject } from "../../catalog/snapshot.ts";
import { byString } from "../../diff/changes.ts";
import type { Conversions, SqlContext } from "./step.ts";

/** Names are looked up in the branch first, then the parent; CREATE TABLE lists the branch's own columns. */
export function sqlContext(snaps: {
  parent?: Snapshot;
  branch: Snapshot;
  conversions?: Conversions;
}): SqlContext {
  const columns = new Map<string, ColumnObject[]>();
  const inherited = new Map<string, ColumnObject[]>();
  for (const id of Object.keys(snaps.branch.objects).sort(byString)) {
    const o = snaps.branch.objects[id];
    if (o.kind !== "column") continue;
    const t = tableId(o.schema, o.table);
    const into = o.inherited ? inherited : columns;
    into.set(t, [...(into.get(t) ?? []), o]);
  }
  for (const list of [...columns.values(), ...inherited.values()])
    list.sort((a, b) => a.position - b.position || byString(a.name, b.name));
  return {
    lookup: (id) => snaps.branch.objects[id] ?? snaps.parent?.objects[id],
    columnsOf: (t: TableObject) => columns.get(t.id) ?? [],
    inheritedColumnsOf: (t: TableObject) => inherited.get(t.id) ?? [],
    conversionOf: (id) => snaps.conversions?.[id],
  };
}

/** A context that knows nothing: for describing a lone object. */
export const emptyContext: SqlContext = {
  lookup: () => undefined,
  columnsOf: () => [],
  inheritedColumnsOf: () => [],
};
