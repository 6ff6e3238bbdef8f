import { configColumnId, configTableId, tableId } from "../catalog/ids.ts";
import type { DbObject, Snapshot } from "../catalog/snapshot.ts";
import { breaksReaders } from "./breaking.ts";
import { assertNever, type Change, type DependencyConflict } from "./changes.ts";
import { dependencyHint } from "./hints.ts";

/**
 * What one change touches: the identity it writes, the identities it reads (must exist,
 * as they were, for it to work), those it only names (must exist, whatever becomes of
 * them: a comment or a grant follows its object through a new definition and is rebuilt
 * with it) and whether its write breaks readers of that identity.
 * Conflict rules are written once over footprints, whatever the kinds involved.
 */
export interface Footprint {
  writes: string;
  reads: string[];
  names: string[];
  breaks: boolean;
}

/** Kinds attached to their object by identity alone (a default privilege to its schema). */
const ATTACHED = new Set(["comment", "grant", "default_privilege"]);

function depsOf(o: DbObject): { reads: string[]; names: string[] } {
  return ATTACHED.has(o.kind) ? { reads: [], names: o.deps } : { reads: o.deps, names: [] };
}

/**
 * Kinds whose deps are all read by one field: an alter that leaves it as it was (a rule
 * disabled, a statistics target set) reads nothing anew, so a column the other side
 * retyped does not block it (the plan rebuilds the object around the new type).
 */
const READ_BY: Partial<Record<DbObject["kind"], string>> = {
  rule: "definition",
  statistics: "definition",
};

function alterDepsOf(before: DbObject, after: DbObject): { reads: string[]; names: string[] } {
  const field = READ_BY[after.kind];
  if (field === undefined || before.kind !== after.kind) return depsOf(after);
  const [b, a] = [before, after] as unknown as Record<string, unknown>[];
  return b[field] === a[field] ? { reads: [], names: after.deps } : depsOf(after);
}

export function footprint(change: Change): Footprint {
  switch (change.type) {
    case "create":
      return { writes: change.id, ...depsOf(change.after), breaks: false };
    case "alter":
      return {
        writes: change.id,
        ...alterDepsOf(change.before, change.after),
        breaks: breaksReaders(change.before, change.after),
      };
    case "drop":
      return { writes: change.id, reads: [], names: [], breaks: true };
    case "row-upsert":
      // A row needs its table and every column it sets.
      return {
        writes: change.id,
        reads: [
          configTableId(change.table),
          ...Object.keys(change.after).map((c) => configColumnId(change.table, c)),
        ],
        names: [],
        breaks: false,
      };
    case "row-delete":
      return { writes: change.id, reads: [configTableId(change.table)], names: [], breaks: false };
    case "policy-set":
    case "policy-delete":
      return { writes: change.id, reads: [configTableId(change.table)], names: [], breaks: false };
    default:
      return assertNever(change);
  }
}

/**
 * Changes of one side that read an identity the other side broke (dropped, or changed in
 * a way readers notice). Checked both ways: a branch view on a column the parent retyped,
 * and a parent view on a column the branch drops, both block the merge.
 */
export function dependencyConflicts(o: {
  base: Snapshot;
  parent: Snapshot;
  branch: Snapshot;
  branchChanges: Change[];
  parentChanges: Change[];
}): DependencyConflict[] {
  const out: DependencyConflict[] = [];
  const sides = [
    { reader: "branch" as const, readers: o.branchChanges, writers: o.parentChanges },
    { reader: "parent" as const, readers: o.parentChanges, writers: o.branchChanges },
  ];
  for (const side of sides) {
    const breaking = new Map<string, Change>();
    for (const w of side.writers) if (footprint(w).breaks) breaking.set(footprint(w).writes, w);
    for (const change of side.readers) {
      const fp = footprint(change);
      const broken = [
        ...new Set([
          ...fp.reads.filter((r) => breaking.has(r)),
          ...fp.names.filter((r) => breaking.get(r)?.type === "drop"),
        ]),
      ]
        .filter((r) => r !== fp.writes)
        .sort();
      for (const read of broken) {
        const writer = breaking.get(read) as Change;
        // A column or key of a dropped table is reported once, as the table.
        const table = tableOf(
          o.base.objects[read] ?? o.parent.objects[read] ?? o.branch.objects[read],
        );
        if (table && broken.includes(table) && breaking.get(table)?.type === "drop") continue;
        out.push({
          type: "dependency",
          id: change.id,
          reader: side.reader,
          readerChange: change,
          dependsOn: read,
          base: o.base.objects[read] ?? null,
          parent: o.parent.objects[read] ?? null,
          branch: o.branch.objects[read] ?? null,
          hint: dependencyHint({
            reader: side.reader,
            dependsOn: read,
            dropped: writer.type === "drop",
          }),
        });
      }
    }
  }
  return out;
}

function tableOf(o: DbObject | undefined): string | null {
  if (!o) return null;
  switch (o.kind) {
    case "column":
    case "constraint":
    case "trigger":
    case "policy":
      return tableId(o.schema, o.table);
    default:
      return null;
  }
}
