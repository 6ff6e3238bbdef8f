import { sameObject, stableStringify } from "../catalog/equality.ts";
import type { DbObject, ObjectKind } from "../catalog/snapshot.ts";

/**
 * The attributes of an object that each side may change on its own: a name (what a
 * conflict reports) and the fields that make it up. Fields of one attribute are one value
 * (a view definition, a policy's expressions, a sequence's range); two attributes are
 * merged field by field. `merge` combines one attribute both sides changed (enum labels).
 */
interface Attribute {
  fields: readonly string[];
  merge?: (base: unknown, parent: unknown, branch: unknown) => unknown | null;
}

interface KindSpec {
  attributes: Record<string, Attribute>;
  /** Attributes that Postgres only accepts in some combinations: changed on both sides, they conflict as one. */
  coupled?: readonly (readonly string[])[];
}

const of = (...fields: string[]): Attribute => ({ fields });

/** reloptions ("name=value", sorted): merged by option name. */
const OPTIONS: Attribute = {
  fields: ["options"],
  merge: (b, p, r) => mergeOptions(b as string[], p as string[], r as string[]),
};

const PRIVILEGES: KindSpec = {
  attributes: {
    privileges: {
      fields: ["privileges"],
      merge: (b, p, r) => mergeSets(b as string[], p as string[], r as string[]),
    },
  },
};

const VIEW: KindSpec = { attributes: { definition: of("definition"), options: OPTIONS } };

/**
 * Kinds split into attributes. A kind not listed (constraints, functions, composites,
 * collations, comments, ...) is one atomic value: its definition text is all
 * there is to it. Grants and comments are objects of their own, so a function's body and
 * its grants or comment already merge separately.
 */
export const KIND_ATTRIBUTES: Partial<Record<ObjectKind, KindSpec>> = {
  column: {
    attributes: {
      type: of("type"),
      collation: of("collation"),
      "not null": of("notNull"),
      default: of("default"),
      identity: of("identity", "identityOptions"),
      generated: of("generated", "generatedKind"),
      inherited: of("inherited"),
      storage: of("storage"),
      "statistics target": of("statisticsTarget"),
    },
    // A default is re-canonicalised for a new type, one column has at most one of a
    // default, an identity or a generation expression, an identity is NOT NULL, and the
    // storages a type allows are its own (a retype resets storage).
    coupled: [
      ["type", "collation", "default", "identity", "generated"],
      ["identity", "not null"],
      ["type", "storage"],
    ],
  },
  table: {
    attributes: {
      persistence: of("persistence"),
      partitioning: of("partitionBy"),
      "partition of": of("partitionOf"),
      inherits: of("inherits"),
      "row level security": of("rlsEnabled"),
      "forced row level security": of("rlsForced"),
      options: OPTIONS,
      "replica identity": of("replicaIdentity", "replicaIdentityIndex"),
    },
  },
  view: VIEW,
  matview: VIEW,
  policy: {
    attributes: {
      permissive: of("permissive"),
      roles: of("roles"),
      // Which expressions a policy may have depends on its command: one value.
      expressions: of("command", "using", "withCheck"),
    },
  },
  sequence: {
    attributes: {
      // A new data type brings its own default bounds.
      range: of("dataType", "min", "max"),
      start: of("start"),
      increment: of("increment"),
      cache: of("cache"),
      cycle: of("cycle"),
      "owned by": of("ownedBy"),
    },
  },
  enum: { attributes: { labels: { fields: ["values"], merge: mergeLabelsValue } } },
  domain: {
    attributes: {
      type: of("baseType", "collation"),
      "not null": of("notNull"),
      default: of("default"),
      checks: of("checks"),
    },
  },
  trigger: { attributes: { definition: of("definition"), enabled: of("enabled") } },
  rule: { attributes: { definition: of("definition"), enabled: of("enabled") } },
  statistics: {
    attributes: { definition: of("definition"), "statistics target": of("statisticsTarget") },
  },
  event_trigger: {
    attributes: { definition: of("event", "tags", "function"), enabled: of("enabled") },
  },
  publication: {
    attributes: {
      "all tables": of("allTables"),
      publish: of("publish"),
      "via partition root": of("viaRoot"),
    },
  },
  publication_table: { attributes: { columns: of("columns"), "row filter": of("rowFilter") } },
  extension: { attributes: { version: of("version"), schema: of("schema") } },
  // Privileges are a set: SELECT granted on one side and INSERT on the other are both kept.
  grant: PRIVILEGES,
  default_privilege: PRIVILEGES,
};

/** Whether two attributes of a kind conflict when each side changes one of them. */
export function coupled(kind: ObjectKind, a: string, b: string): boolean {
  return (KIND_ATTRIBUTES[kind]?.coupled ?? []).some((g) => g.includes(a) && g.includes(b));
}

/**
 * What an object both sides created is merged from: a grant of no privileges (one side
 * granting SELECT and the other INSERT to one role keeps both), a default privilege of its
 * built-in ones (what its absence meant). Null: created twice differently is a conflict.
 */
export function createdFrom(o: DbObject): DbObject | null {
  if (o.kind === "grant") return { ...o, privileges: [] };
  if (o.kind === "default_privilege") return { ...o, privileges: o.builtin };
  return null;
}

/** Fields never merged as attributes: the identity (equal on all sides) and bookkeeping. */
const NOT_ATTRIBUTES = new Set(["deps", "position", "owner"]);

export type AttributeMerge =
  | { merged: DbObject; conflicts: [] }
  /** The attributes both sides changed differently (["definition"] for an atomic kind). */
  | { merged: null; conflicts: string[] };

/**
 * Three-way merge of one object both sides changed: each attribute comes from the side
 * that changed it (the parent's when both made it equal); an attribute both changed
 * differently is a conflict, named. Deps are merged as sets: what either side added,
 * without what either removed.
 */
export function mergeAttributes(
  base: DbObject,
  parent: DbObject,
  branch: DbObject,
): AttributeMerge {
  // The owner of every kind is an attribute of its own: merged apart, then put back.
  const owner = pick(base.owner, parent.owner, branch.owner);
  const withBase = (o: DbObject) => ({ ...o, owner: base.owner }) as DbObject;
  const [p, r] = [withBase(parent), withBase(branch)];
  const rest = sameObject(base, p)
    ? { merged: r, conflicts: [] as [] }
    : sameObject(base, r)
      ? { merged: p, conflicts: [] as [] }
      : mergeRest(base, p, r);
  if (owner === CONFLICT) return { merged: null, conflicts: [...rest.conflicts, "owner"] };
  if (!rest.merged) return rest;
  const merged = { ...rest.merged, owner: owner ?? undefined };
  if (owner === undefined) delete merged.owner;
  return { merged, conflicts: [] };
}

const CONFLICT = Symbol("conflict");

/** One value three-way: the side that changed it, or CONFLICT when both changed it differently. */
function pick<T>(base: T, parent: T, branch: T): T | typeof CONFLICT {
  if (parent === base || parent === branch) return branch;
  return branch === base ? parent : CONFLICT;
}

function mergeRest(base: DbObject, parent: DbObject, branch: DbObject): AttributeMerge {
  const spec = KIND_ATTRIBUTES[base.kind];
  if (!spec || parent.kind !== base.kind || branch.kind !== base.kind) {
    return { merged: null, conflicts: ["definition"] };
  }
  const [b, p, r] = [base, parent, branch] as unknown as Record<string, unknown>[];
  const covered = new Set(Object.values(spec.attributes).flatMap((a) => a.fields));
  const rest = [...new Set([...Object.keys(b), ...Object.keys(p), ...Object.keys(r)])].filter(
    (f) => !covered.has(f) && !NOT_ATTRIBUTES.has(f),
  );
  // Fields outside every attribute (names, a function's arguments) are the identity: a
  // difference there is a different object.
  if (!same(b, p, rest) || !same(b, r, rest)) return { merged: null, conflicts: ["definition"] };
  const merged: Record<string, unknown> = { ...p };
  const conflicts: string[] = [];
  const changedBy = { parent: new Set<string>(), branch: new Set<string>() };
  for (const [name, a] of Object.entries(spec.attributes)) {
    const parentChanged = !same(b, p, a.fields);
    const branchChanged = !same(b, r, a.fields);
    if (parentChanged) changedBy.parent.add(name);
    if (branchChanged) changedBy.branch.add(name);
    if (!branchChanged || same(p, r, a.fields)) continue;
    if (!parentChanged) {
      // Optional fields (a column's storage) stay absent rather than undefined.
      for (const f of a.fields) {
        if (r[f] === undefined) delete merged[f];
        else merged[f] = r[f];
      }
      continue;
    }
    const combined =
      a.merge && a.fields.length === 1
        ? a.merge(b[a.fields[0]], p[a.fields[0]], r[a.fields[0]])
        : null;
    if (combined !== null) merged[a.fields[0]] = combined;
    else conflicts.push(name);
  }
  for (const group of spec.coupled ?? []) {
    const ps = group.filter((n) => changedBy.parent.has(n));
    const rs = group.filter((n) => changedBy.branch.has(n));
    if (ps.length === 0 || rs.length === 0) continue;
    // Both sides touched the group: only identical results of the same attributes pass.
    const fields = group.flatMap((n) => spec.attributes[n].fields);
    if (!same(p, r, fields))
      conflicts.push(...[...new Set([...ps, ...rs])].filter((n) => !conflicts.includes(n)));
  }
  if (conflicts.length > 0) return { merged: null, conflicts: order(spec, conflicts) };
  merged.deps = mergeSets(base.deps, parent.deps, branch.deps);
  return { merged: merged as unknown as DbObject, conflicts: [] };
}

const order = (spec: KindSpec, names: string[]) =>
  Object.keys(spec.attributes).filter((n) => names.includes(n));

function same(x: Record<string, unknown>, y: Record<string, unknown>, fields: readonly string[]) {
  return fields.every((f) => stableStringify(x[f] ?? null) === stableStringify(y[f] ?? null));
}

/** What either side has, less what either removed since the base; sorted. */
function mergeSets(base: string[], parent: string[], branch: string[]): string[] {
  const removed = new Set(base.filter((x) => !parent.includes(x) || !branch.includes(x)));
  return [...new Set([...parent, ...branch])].filter((x) => !removed.has(x)).sort();
}

/** Options by name, three-way; null when both sides set one option to different values. */
export function mergeOptions(base: string[], parent: string[], branch: string[]): string[] | null {
  const byName = (list: string[]) =>
    new Map(list.map((o) => [o.includes("=") ? o.slice(0, o.indexOf("=")) : o, o]));
  const [b, p, r] = [byName(base), byName(parent), byName(branch)];
  const out: string[] = [];
  for (const name of new Set([...p.keys(), ...r.keys(), ...b.keys()])) {
    const [x, y, z] = [b.get(name), p.get(name), r.get(name)];
    const pick = y === x ? z : z === x || z === y ? y : null;
    if (pick === null) return null;
    if (pick !== undefined) out.push(pick);
  }
  return out.sort();
}

function mergeLabelsValue(base: unknown, parent: unknown, branch: unknown): string[] | null {
  return mergeLabels(base as string[], parent as string[], branch as string[]);
}

/** True when `small` appears in `big` in the same order. */
export function isSubsequence(small: string[], big: string[]): boolean {
  let i = 0;
  for (const v of big) if (i < small.length && small[i] === v) i++;
  return i === small.length;
}

/**
 * Enum labels added on both sides: every label of both, the parent's first in each slot
 * between labels both sides have. Null when a side removed or reordered a label of the
 * base, or the two place a label they both have differently (no order keeps both).
 *
 * @example mergeLabels(["a", "c"], ["a", "x", "c"], ["a", "y", "c"]) // ["a", "x", "y", "c"]
 */
export function mergeLabels(base: string[], parent: string[], branch: string[]): string[] | null {
  if (!isSubsequence(base, parent) || !isSubsequence(base, branch)) return null;
  const inBranch = new Set(branch);
  const anchors = parent.filter((l) => inBranch.has(l));
  const inParent = new Set(parent);
  if (anchors.join("\u0000") !== branch.filter((l) => inParent.has(l)).join("\u0000")) return null;
  const out: string[] = [];
  let [i, j] = [0, 0];
  for (const anchor of [...anchors, null]) {
    while (i < parent.length && parent[i] !== anchor) out.push(parent[i++]);
    while (j < branch.length && branch[j] !== anchor) out.push(branch[j++]);
    if (anchor !== null) {
      out.push(anchor);
      i++;
      j++;
    }
  }
  return out;
}
