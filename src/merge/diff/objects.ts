import { sameObject } from "../catalog/equality.ts";
import type { DbObject, Snapshot } from "../catalog/snapshot.ts";
import { createdFrom, mergeAttributes } from "./attributes.ts";
import { byString, type ObjectChange, type ObjectConflict } from "./changes.ts";
import { objectHint } from "./hints.ts";

export interface ObjectDiff {
  branch: ObjectChange[];
  parent: ObjectChange[];
  conflicts: ObjectConflict[];
}

/**
 * Three-way comparison of every identity in the three snapshots. A side "changed" an
 * object when it differs from T0 in its comparable fields. Changed on the branch only:
 * a change to apply. On the parent only: kept. On both, to the same result: nothing to
 * do. On both, differently: merged attribute by attribute (attributes.ts), and a conflict
 * naming the attributes both sides changed differently.
 */
export function diffObjects(base: Snapshot, parent: Snapshot, branch: Snapshot): ObjectDiff {
  const ids = new Set([
    ...Object.keys(base.objects),
    ...Object.keys(parent.objects),
    ...Object.keys(branch.objects),
  ]);
  const out: ObjectDiff = { branch: [], parent: [], conflicts: [] };
  for (const id of [...ids].sort(byString)) {
    const b = base.objects[id];
    const p = parent.objects[id];
    const r = branch.objects[id];
    const branchChanged = !sameObject(b, r);
    const parentChanged = !sameObject(b, p);
    if (!branchChanged) {
      if (parentChanged) out.parent.push(change(id, b, p));
      continue;
    }
    if (!parentChanged) {
      // base and parent agree; `before` is the parent's (the object the SQL will change).
      out.branch.push(change(id, p, r));
      continue;
    }
    if (sameObject(p, r)) continue;
    const type = !b ? "both-created" : !p || !r ? "modify-drop" : "both-modified";
    const from = b ?? (p && r ? createdFrom(p) : null);
    const attrs = from && p && r ? mergeAttributes(from, p, r) : null;
    if (attrs?.merged) {
      // Different attributes on each side: the branch's part goes on top of the parent's.
      out.parent.push(change(id, b, p));
      if (!sameObject(p, attrs.merged)) out.branch.push(change(id, p, attrs.merged));
      continue;
    }
    const kind = (r ?? p ?? b).kind;
    const attributes = attrs?.conflicts ?? [];
    out.conflicts.push({
      type,
      id,
      kind,
      base: b ?? null,
      parent: p ?? null,
      branch: r ?? null,
      ...(type === "both-modified" ? { attributes } : {}),
      hint: objectHint({ type, parentDropped: !p, branchDropped: !r, attributes }),
    });
  }
  return out;
}

/** The change that turns `before` into `after` (at least one present). */
export function change(
  id: string,
  before: DbObject | undefined,
  after: DbObject | undefined,
): ObjectChange {
  if (!before && after) return { type: "create", id, kind: after.kind, before: null, after };
  if (before && !after) return { type: "drop", id, kind: before.kind, before, after: null };
  if (before && after) return { type: "alter", id, kind: after.kind, before, after };
  throw new Error(`no change for ${id}: absent on both sides`);
}
