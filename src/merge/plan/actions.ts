import { sameObject } from "../catalog/equality.ts";
import type { DbObject, ObjectKind, Snapshot } from "../catalog/snapshot.ts";
import { byString, type Change } from "../diff/changes.ts";
import { impactOf } from "../render/sql/index.ts";
import { dependentsIndex, ownersOf } from "./owners.ts";

/**
 * What the plan does to one identity. Built from the diff's changes, then widened by
 * cascade(): what Postgres drops along with something, and what must be dropped and
 * recreated because something it depends on is rebuilt.
 */
export type Action =
  | { mode: "create"; id: string; after: DbObject; label: string; notes: string[] }
  /** implicit: Postgres drops it with its owner, no statement of its own. */
  | {
      mode: "drop";
      id: string;
      before: DbObject;
      implicit: boolean;
      label: string;
      notes: string[];
    }
  /** reshape: readers (views, policies, triggers, functions) must be rebuilt around it. */
  | {
      mode: "alter";
      id: string;
      before: DbObject;
      after: DbObject;
      reshape: boolean;
      label: string;
      notes: string[];
    }
  /** implicitDrop: the old one goes with its owner; only the create has statements. */
  | {
      mode: "recreate";
      id: string;
      before: DbObject;
      after: DbObject;
      implicitDrop: boolean;
      label: string;
      notes: string[];
    }
  /** A type in use rebuilt: renamed away, created again, `columns` converted, old one dropped. */
  | {
      mode: "retype";
      id: string;
      before: DbObject;
      after: DbObject;
      columns: string[];
      label: string;
      notes: string[];
    }
  /** Comes into being with `by`'s statements (a column in CREATE TABLE, an inherited column). */
  | { mode: "implied"; id: string; after: DbObject; by: string }
  /** Dropped by its own statements, then brought back by `by`'s (a local column that becomes inherited). */
  | {
      mode: "replaced";
      id: string;
      before: DbObject;
      after: DbObject;
      by: string;
      label: string;
      notes: string[];
    }
  /** A column converted to a rebuilt type by `by`'s retype (its other changes included). */
  | { mode: "converted"; id: string; before: DbObject; after: DbObject; by: string };

export type ActionMap = Map<string, Action>;

/** A dependent rebuilt around `on`: its drop goes before `on`'s statements, its create after. */
export interface CascadeEdge {
  dependent: string;
  on: string;
}

const RECREATE_NOTE = "cannot be changed in place: dropped and created again";
const RETYPE_NOTE =
  "ALTER cannot reach the new definition (labels removed or reordered, an attribute retyped, a new base type) and columns use it: the type is renamed away, created again, its columns converted, and the old one dropped";

/**
 * Kinds that read a column's type and make ALTER COLUMN TYPE fail until they are dropped.
 * Postgres rebuilds extended statistics itself, but loses their statistics target: they are
 * rebuilt from the snapshot instead, like the rest.
 */
const READERS: ReadonlySet<ObjectKind> = new Set([
  "view",
  "matview",
  "policy",
  "trigger",
  "rule",
  "statistics",
  "function",
]);
/** Kinds that still name the old type after it is renamed away, so they block dropping it. */
const TYPE_READERS: ReadonlySet<ObjectKind> = new Set([
  ...READERS,
  "constraint",
  "domain",
  "composite",
  "index",
]);

const RANGE_RETYPE_NOTE =
  "a range type cannot be altered and columns use it: they are converted to text, the type dropped and created again, and the columns converted back";

const NEW_LABEL_NOTE =
  "a label it adds is used later in this merge, which Postgres allows only for a type created in the same transaction: the type is renamed away, created again with every label, its columns converted, and the old one dropped";

/** `rebuild`: types to rebuild even where ALTER could reach them (see plan.ts). */
export function buildActions(
  changes: Change[],
  snaps: { parent: Snapshot; branch: Snapshot },
  rebuild: ReadonlySet<string> = new Set(),
): ActionMap {
  const actions: ActionMap = new Map();
  for (const c of changes) {
    switch (c.type) {
      case "create":
        actions.set(c.id, { mode: "create", id: c.id, after: c.after, label: "create", notes: [] });
        break;
      case "drop":
        actions.set(c.id, {
          mode: "drop",
          id: c.id,
          before: c.before,
          implicit: false,
          label: "drop",
          notes: [],
        });
        break;
      case "alter": {
        const impact = rebuild.has(c.id) ? "retype" : impactOf(c.before, c.after);
        const base = { id: c.id, before: c.before, after: c.after, label: "alter" };
        if (impact === "in-place" || impact === "reshape") {
          actions.set(c.id, { mode: "alter", ...base, reshape: impact === "reshape", notes: [] });
        } else if (impact === "recreate") {
          actions.set(c.id, {
            mode: "recreate",
            ...base,
            implicitDrop: false,
            notes: [RECREATE_NOTE],
          });
        } else {
          const note = rebuild.has(c.id)
            ? NEW_LABEL_NOTE
            : c.before.kind === "range"
              ? RANGE_RETYPE_NOTE
              : RETYPE_NOTE;
          actions.set(c.id, { mode: "retype", ...base, columns: [], notes: [note] });
        }
        break;
      }
      default:
        // Data changes are planned by data.ts.
        break;
    }
  }
  planRetypes(actions, snaps);
  return actions;
}

/** Picks the columns each retyped type converts; a type nothing uses is simply dropped and created. */
function planRetypes(actions: ActionMap, snaps: { parent: Snapshot; branch: Snapshot }) {
  const dependents = dependentsIndex(snaps.parent);
  for (const a of [...actions.values()]) {
    if (a.mode !== "retype") continue;
    const columns = (dependents.get(a.id) ?? []).filter((id) => {
      const now = snaps.branch.objects[id];
      return (
        snaps.parent.objects[id]?.kind === "column" &&
        now?.kind === "column" &&
        now.deps.includes(a.id)
      );
    });
    const users = (dependents.get(a.id) ?? []).filter(
      (id) => snaps.parent.objects[id]?.kind === "column",
    );
    if (users.length === 0) {
      actions.set(a.id, { ...a, mode: "recreate", implicitDrop: false, notes: [RECREATE_NOTE] });
      continue;
    }
    // A column inherited from a converted parent column is converted with it.
    a.columns = columns.filter((id) => {
      const c = snaps.parent.objects[id];
      return !ownersOf(c, snaps.parent).some((o) => columns.includes(o));
    });
    for (const id of columns) {
      // The column's own change when it has one (merged with the parent's attributes).
      const own = actions.get(id);
      const after = own && "after" in own ? own.after : snaps.branch.objects[id];
      if (!a.columns.includes(id)) {
        actions.set(id, { mode: "implied", id, after, by: a.id });
        continue;
      }
      actions.set(id, { mode: "converted", id, before: snaps.parent.objects[id], after, by: a.id });
    }
  }
}

/**
 * Widens the actions to everything Postgres needs: dependents of what is dropped,
 * recreated, retyped or reshaped are dropped first and recreated after; objects owned by
 * what is dropped go with it. Returns the ordering edges this adds.
 */
export function cascade(
  actions: ActionMap,
  snaps: { parent: Snapshot; branch: Snapshot },
): CascadeEdge[] {
  const dependents = dependentsIndex(snaps.parent);
  const edges: CascadeEdge[] = [];
  const queue = [...actions.keys()].sort(byString);
  const seen = new Set<string>();
  while (queue.length > 0) {
    const x = queue.shift() as string;
    const a = actions.get(x);
    if (!a) continue;
    const why = reason(a);
    if (!why) continue;
    const key = `${x}:${why}`;
    if (seen.has(key)) continue;
    seen.add(key);
    for (const y of dependents.get(x) ?? []) {
      const changed = cascadeOne({ actions, snaps, x, why, y });
      if (changed === "skip") continue;
      edges.push({ dependent: y, on: x });
      if (changed === "changed") queue.push(y);
    }
  }
  return edges;
}

type Why = "removed" | "retyped" | "reshaped";

/**
 * What a dependent is rebuilt as: the branch's version when the branch changed it, else
 * the parent's own (so a change only the parent made is kept, never reverted), with the
 * branch's deps when the two are the same object.
 */
function rebuiltAs(
  before: DbObject,
  existing: Action | undefined,
  branch: DbObject | undefined,
): DbObject | null {
  if (
    existing &&
    existing.mode !== "implied" &&
    existing.mode !== "converted" &&
    existing.mode !== "replaced"
  ) {
    return existing.mode === "drop" ? null : "after" in existing ? existing.after : before;
  }
  return branch && sameObject(before, branch) ? branch : before;
}

/**
 * A foreign key whose columns on both ends change type: Postgres re-checks the key at
 * each ALTER COLUMN TYPE, so changing one end before the other fails (integer → text on
 * both). Such a key is dropped before both changes and added again after them.
 */
function keyPair(c: DbObject, x: string, actions: ActionMap): boolean {
  if (c.kind !== "constraint" || c.type !== "f") return false;
  return c.deps.some((d) => {
    const a = d !== x && d.startsWith("column:") ? actions.get(d) : undefined;
    return a?.mode === "converted" || (a?.mode === "alter" && a.reshape);
  });
}

function reason(a: Action): Why | null {
  if (a.mode === "drop" || a.mode === "recreate" || a.mode === "replaced") return "removed";
  if (a.mode === "retype") return "retyped";
  if (a.mode === "converted" || (a.mode === "alter" && a.reshape)) return "reshaped";
  return null;
}

const BECAUSE: Record<Why, string> = {
  removed: "is dropped or recreated",
  retyped: "is rebuilt",
  reshaped: "changes type",
};

function cascadeOne(o: {
  actions: ActionMap;
  snaps: { parent: Snapshot; branch: Snapshot };
  x: string;
  why: Why;
  y: string;
}): "changed" | "kept" | "skip" {
  const { actions, snaps, x, why, y } = o;
  const before = snaps.parent.objects[y];
  if (!before || y === x) return "skip";
  const existing = actions.get(y);
  const after = rebuiltAs(before, existing, snaps.branch.objects[y]);
  const owned = ownersOf(before, snaps.parent).includes(x);
  if (why === "reshaped" && (owned || !(READERS.has(before.kind) || keyPair(before, x, actions))))
    return "skip";
  if (why === "retyped" && before.kind === "column") return "skip";
  if (why === "retyped" && !owned && !TYPE_READERS.has(before.kind)) return "skip";
  if (
    existing?.mode === "implied" ||
    existing?.mode === "converted" ||
    existing?.mode === "replaced"
  )
    return "skip";
  const note = `recreated because ${x} ${BECAUSE[why]}`;
  // A sequence given to another owner (OWNED BY) is handed over before its old owner goes.
  if (
    owned &&
    before.kind === "sequence" &&
    existing?.mode === "alter" &&
    after &&
    !ownersOf(after, snaps.branch).includes(x)
  ) {
    return "skip";
  }
  if (owned && why !== "reshaped") {
    // Goes with its owner: no drop statement; created again if the branch has it.
    if (existing?.mode === "drop") {
      if (existing.implicit) return "kept";
      existing.implicit = true;
      return "changed";
    }
    if (existing?.mode === "recreate") {
      if (existing.implicitDrop) return "kept";
      existing.implicitDrop = true;
      return "changed";
    }
    return dropOrRecreate({ actions, y, before, after, existing, implicit: true, note });
  }
  if (existing?.mode === "drop" || existing?.mode === "recreate" || existing?.mode === "retype")
    return "kept";
  // A dependent that the branch rewrites in place so that it no longer needs x: alter it first, then drop x.
  // A reshaping alter too (a column moved off a dropped collation or type keeps its data; its readers are rebuilt around it).
  if (why === "removed" && existing?.mode === "alter" && after && !after.deps.includes(x)) {
    return "skip";
  }
  return dropOrRecreate({ actions, y, before, after, existing, implicit: false, note });
}

/** Drops a dependent the branch no longer has, else recreates it; `implicit` when it goes with its owner. */
function dropOrRecreate(o: {
  actions: Map<string, Action>;
  y: string;
  before: DbObject;
  after: DbObject | null | undefined;
  existing: Action | undefined;
  implicit: boolean;
  note: string;
}): "changed" {
  const { actions, y, before, after, existing, implicit } = o;
  if (!after) {
    actions.set(y, { mode: "drop", id: y, before, implicit, label: "drop", notes: [] });
    return "changed";
  }
  const label = existing && "label" in existing ? existing.label : "recreate";
  actions.set(y, {
    mode: "recreate",
    id: y,
    before,
    after,
    implicitDrop: implicit,
    label,
    notes: [o.note],
  });
  return "changed";
}
