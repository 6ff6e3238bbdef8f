import { createHash } from "node:crypto";
import { sameObject, stableStringify } from "../catalog/equality.ts";
import type { DbObject, Snapshot } from "../catalog/snapshot.ts";
import { createdFrom, KIND_ATTRIBUTES, mergeAttributes } from "./attributes.ts";
import {
  byString,
  type Change,
  type Conflict,
  type DataChange,
  type DiffResult,
  type ObjectConflict,
  type Row,
  type RowConflict,
} from "./changes.ts";
import { change } from "./objects.ts";

export type Side = "branch" | "parent";

/** A decision for every conflict with one id, from a flag or recorded on the branch. */
export interface Resolution {
  id: string;
  take: Side;
  /** The conflict as it was when recorded (conflictDigest); absent for flags, which see the conflict now. */
  digest?: string;
  source: "flag" | "recorded";
}

/** One conflict a resolution settled, and the changes that now carry the taken side. */
export interface ResolvedConflict {
  id: string;
  type: Conflict["type"];
  take: Side;
  source: Resolution["source"];
  /** Ids of the changes applied because of it (none when the parent's side was taken). */
  changes: string[];
}

export interface ResolveResult {
  diff: DiffResult;
  resolved: ResolvedConflict[];
  /** Recorded resolutions whose conflict changed since (or is gone): not used. */
  stale: Resolution[];
}

/**
 * What the conflicts of one id are, both sides included: a recorded resolution holds
 * only while they are still exactly these.
 */
export function conflictDigest(diff: DiffResult, id: string): string {
  const of = diff.conflicts.filter((c) => c.id === id).map(({ hint: _hint, ...rest }) => rest);
  return createHash("sha256").update(stableStringify(of)).digest("hex").slice(0, 16);
}

/**
 * Settles conflicts by taking one side. The parent's side applies nothing (the parent
 * keeps what it has, the branch's change is dropped); the branch's side turns the
 * conflict into the change from the parent's current state to the branch's. Pure: the
 * plan, the preview, the hazards and the proof after rehearsal see the result as any
 * other change, so a resolution never hides what it runs.
 */
export function resolveConflicts(
  diff: DiffResult,
  resolutions: Resolution[],
  sides: { parent: Snapshot; branch: Snapshot },
): ResolveResult {
  const byId = new Map<string, Resolution>();
  // A flag given now overrides what was recorded on the branch.
  for (const r of resolutions) if (r.source === "recorded") byId.set(r.id, r);
  for (const r of resolutions) if (r.source === "flag") byId.set(r.id, r);
  const remaining: Conflict[] = [];
  const resolved: ResolvedConflict[] = [];
  const used = new Set<Resolution>();
  const added = new Map<string, Change>();
  for (const c of diff.conflicts) {
    const r = byId.get(c.id);
    if (!r || (r.digest !== undefined && r.digest !== conflictDigest(diff, c.id))) {
      remaining.push(c);
      continue;
    }
    used.add(r);
    const changes = r.take === "branch" ? branchSide(c, sides) : parentSide(c, sides);
    for (const ch of changes) added.set(ch.id, ch);
    resolved.push({
      id: c.id,
      type: c.type,
      take: r.take,
      source: r.source,
      changes: changes.map((ch) => ch.id),
    });
  }
  // A change that another, unsettled conflict still blocks stays out (the merge is blocked anyway).
  const blocked = new Set(remaining.map((c) => c.id));
  for (const c of remaining)
    if (c.type === "dependency" && c.reader === "parent") blocked.add(c.dependsOn);
  const taken = [...added.values()].filter((ch) => !blocked.has(ch.id));
  const present = new Set(diff.changes.map((ch) => ch.id));
  const changes = [...diff.changes, ...taken.filter((ch) => !present.has(ch.id))].sort((a, b) =>
    byString(a.id, b.id),
  );
  return {
    diff: { ...diff, changes, conflicts: remaining },
    resolved,
    stale: resolutions.filter((r) => r.source === "recorded" && !used.has(r)),
  };
}

/** The branch's version of what a conflict is about, as changes against the parent now. */
function branchSide(c: Conflict, sides: { parent: Snapshot; branch: Snapshot }): Change[] {
  switch (c.type) {
    case "both-modified":
    case "both-created": {
      const won = winner(c, "branch");
      if (won)
        return sameObject(c.parent ?? undefined, won)
          ? []
          : [change(c.id, c.parent ?? undefined, won)];
      return [change(c.id, c.parent ?? undefined, c.branch ?? undefined)];
    }
    case "modify-drop":
      return c.parent || c.branch
        ? [change(c.id, c.parent ?? undefined, c.branch ?? undefined)]
        : [];
    case "dependency":
      // The branch's reading change goes in as it is; or, when the parent's change reads
      // what the branch changed, the branch's change of that object.
      if (c.reader === "branch") return [c.readerChange];
      return c.parent || c.branch
        ? [change(c.dependsOn, c.parent ?? undefined, c.branch ?? undefined)]
        : [];
    case "row-conflict":
      return rowSide(c, sides);
    case "policy-conflict":
      if (c.branch)
        return [
          { type: "policy-set", id: c.id, table: c.table, before: c.parent, after: c.branch },
        ];
      if (c.parent)
        return [{ type: "policy-delete", id: c.id, table: c.table, before: c.parent, after: null }];
      return [];
  }
}

/**
 * The parent's side of an object both changed: its version of the attributes in
 * conflict, with the branch's other attribute changes still on top (they did not clash).
 */
function parentSide(c: Conflict, sides: { parent: Snapshot; branch: Snapshot }): Change[] {
  if (c.type === "row-conflict") return rowSide(c, sides, "parent");
  if ((c.type !== "both-modified" && c.type !== "both-created") || !c.parent) return [];
  const won = winner(c, "parent");
  return won && !sameObject(c.parent, won) ? [change(c.id, c.parent, won)] : [];
}

/**
 * The object merged attribute by attribute with the conflicting attributes taken from
 * one side: those are read as unchanged by the other side (the base gets its values),
 * so the attribute merge keeps every other change of both. Null when the kind is one value.
 */
function winner(c: ObjectConflict, side: Side): DbObject | null {
  const { parent, branch } = c;
  if (!parent || !branch || !c.attributes || c.attributes.includes("definition")) return null;
  const base = c.base ?? createdFrom(parent);
  const spec = base ? KIND_ATTRIBUTES[base.kind] : undefined;
  // The owner is an attribute of every kind, split or not (diff/attributes.ts).
  const fieldsOf = (name: string) =>
    name === "owner" ? ["owner"] : spec?.attributes[name]?.fields;
  if (!base || (!spec && c.attributes.some((n) => n !== "owner"))) return null;
  const loser = (side === "branch" ? parent : branch) as unknown as Record<string, unknown>;
  const adjusted = { ...base } as unknown as Record<string, unknown>;
  for (const name of c.attributes) {
    for (const f of fieldsOf(name) ?? []) adjusted[f] = loser[f];
  }
  return mergeAttributes(adjusted as unknown as DbObject, parent, branch).merged;
}

function rowSide(
  c: RowConflict,
  sides: { parent: Snapshot; branch: Snapshot },
  side: Side = "branch",
): DataChange[] {
  const keyColumns = (sides.branch.data[c.table] ?? sides.parent.data[c.table])?.key ?? [];
  const base = { id: c.id, table: c.table, key: c.key, keyColumns };
  if (c.cells && c.parent && c.branch) {
    // A cell conflict: the taken side's cells in conflict, every other cell as merged.
    const after = cellMerge(c, c.parent, c.branch, side);
    return stableStringify(after) === stableStringify(c.parent)
      ? []
      : [{ ...base, type: "row-upsert", before: c.parent, after }];
  }
  if (side === "parent") return [];
  if (c.branch) return [{ ...base, type: "row-upsert", before: c.parent, after: c.branch }];
  return [{ ...base, type: "row-delete", before: c.parent as Row, after: null }];
}

function cellMerge(c: RowConflict, parent: Row, branch: Row, side: Side): Row {
  const clash = new Set((c.cells ?? []).map((x) => x.column));
  const out: Row = {};
  for (const col of new Set([...Object.keys(parent), ...Object.keys(branch)])) {
    if (clash.has(col)) out[col] = (side === "branch" ? branch : parent)[col] ?? null;
    else if ((c.base?.[col] ?? null) !== (branch[col] ?? null)) out[col] = branch[col] ?? null;
    else out[col] = parent[col] ?? null;
  }
  return out;
}

/** Every conflict id of a diff, once each, in report order. */
export function conflictIds(diff: DiffResult): string[] {
  return [...new Set(diff.conflicts.map((c) => c.id))];
}
