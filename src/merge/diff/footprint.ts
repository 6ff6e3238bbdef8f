import { configColumnId, configTableId, tableId } from "../catalog/ids.ts";
import type { DbObject, Snapshot } from "../catalog/snapshot.ts";
import { breaksReaders } from "./breaking.ts";
import { assertNever, type Change, type DependencyConflict } from "./changes.ts";
import { dependencyHint } from "./hints.ts";

/**
 * What one change touches: the identity it writes, the identities it reads (must exist,
 * as they were, for it to work) and whether its write breaks readers of that identity.
 * Conflict rules are written once over footprints, whatever the kinds involved.
 */
export interface Footprint {
  writes: string;
  reads: string[];
  breaks: boolean;
}

export function footprint(change: Change): Footprint {
  switch (change.type) {
    case "create":
      return { writes: change.id, reads: change.after.deps, breaks: false };
    case "alter":
      return {
        writes: change.id,
        reads: change.after.deps,
        breaks: breaksReaders(change.before, change.after),
      };
    case "drop":
      return { writes: change.id, reads: [], breaks: true };
    case "row-upsert":
      // A row needs its table and every column it sets.
      return {
        writes: change.id,
        reads: [
          configTableId(change.table),
          ...Object.keys(change.after).map((c) => configColumnId(change.table, c)),
        ],
        breaks: false,
      };
    case "row-delete":
      return { writes: change.id, reads: [configTableId(change.table)], breaks: false };
    case "policy-set":
    case "policy-delete":
      return { writes: change.id, reads: [configTableId(change.table)], breaks: false };
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
      const broken = [...new Set(fp.reads)]
        .filter((r) => breaking.has(r) && r !== fp.writes)
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
