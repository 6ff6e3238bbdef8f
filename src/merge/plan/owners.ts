import {
  idOfQualified,
  idPart,
  publicationId,
  schemaId,
  schemaObjectId,
  splitQualified,
  tableId,
} from "../catalog/ids.ts";
import type { ColumnObject, DbObject, Snapshot } from "../catalog/snapshot.ts";
import { byString } from "../diff/changes.ts";

/**
 * Structural ownership: objects Postgres drops by itself with their owner (a table's
 * columns, constraints, indexes, triggers, rules, statistics and policies; an object's grants and comment;
 * a sequence OWNED BY a column; a partition with its parent; a column inherited only).
 * Their drops have no statement of their own and they must be created again when the
 * owner is recreated.
 */
export function ownersOf(o: DbObject, snap: Snapshot): string[] {
  switch (o.kind) {
    case "column":
      return [tableId(o.schema, o.table), ...inheritedFrom(o, snap)];
    case "constraint":
    case "policy":
      return [tableId(o.schema, o.table)];
    case "index":
    case "trigger":
    case "rule":
      return [relationOf(o.schema, o.table, snap)];
    case "statistics":
      return [relationOf(...schemaAndName(o.relation), snap)];
    case "grant":
    case "comment":
      return [o.target];
    // A table leaves its publications when it is dropped; all leave with the publication.
    case "publication_table":
      return [publicationId(o.publication), tableId(o.schema, o.table)];
    case "publication_schema":
      return [publicationId(o.publication), schemaId(o.schema)];
    // A schema's default privileges go with it.
    case "default_privilege":
      return o.schema === null ? [] : [schemaId(o.schema)];
    case "sequence":
      return o.ownedBy ? [idOfQualified("column", o.ownedBy)] : [];
    case "table":
      return o.partitionOf ? [idOfQualified("table", o.partitionOf.parent)] : [];
    default:
      return [];
  }
}

/** The table, view or materialized view named S.T in the snapshot (table when unknown). */
export function relationOf(schema: string, name: string, snap: Snapshot): string {
  for (const kind of ["table", "view", "matview"]) {
    const id = schemaObjectId(kind, schema, name);
    if (snap.objects[id]) return id;
  }
  return tableId(schema, name);
}

/** [S, T] of a qualified "S.T". */
function schemaAndName(q: string): [string, string] {
  const [s, t] = splitQualified(q) ?? [];
  return [s ?? "", t ?? q];
}

/** A column that exists only through inheritance goes away with the parent's column. */
function inheritedFrom(c: ColumnObject, snap: Snapshot): string[] {
  if (!c.inherited) return [];
  const table = snap.objects[tableId(c.schema, c.table)];
  if (table?.kind !== "table") return [];
  const parents = table.partitionOf ? [table.partitionOf.parent] : table.inherits;
  return parents
    .map((p) => idOfQualified("column", `${p}.${idPart(c.name)}`))
    .filter((id) => snap.objects[id]);
}

/** The table (or relation) an object lives on, for grouping statements by table. */
export function tableOf(o: DbObject): string | null {
  switch (o.kind) {
    case "table":
      return o.id;
    case "column":
    case "constraint":
    case "index":
    case "trigger":
    case "rule":
    case "policy":
      return tableId(o.schema, o.table);
    case "statistics":
      return idOfQualified("table", o.relation);
    default:
      return null;
  }
}

/** id → ids of the objects that depend on it (deps or ownership), sorted; built once per snapshot. */
export function dependentsIndex(snap: Snapshot): Map<string, string[]> {
  let index = dependentsCache.get(snap);
  if (!index) {
    index = buildDependentsIndex(snap);
    dependentsCache.set(snap, index);
  }
  return index;
}

const dependentsCache = new WeakMap<Snapshot, Map<string, string[]>>();

function buildDependentsIndex(snap: Snapshot): Map<string, string[]> {
  const out = new Map<string, Set<string>>();
  for (const id of Object.keys(snap.objects).sort(byString)) {
    const o = snap.objects[id];
    for (const on of [...o.deps, ...ownersOf(o, snap)]) {
      let set = out.get(on);
      if (!set) {
        set = new Set();
        out.set(on, set);
      }
      set.add(id);
    }
  }
  const sorted = new Map<string, string[]>();
  for (const [k, v] of out) sorted.set(k, [...v].sort(byString));
  return sorted;
}
