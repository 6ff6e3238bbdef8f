/**
 * What a three-way diff finds: changes (the branch's work, to apply to the parent) and
 * conflicts (what cannot be applied without a person deciding). Both are discriminated
 * unions, handled by exhaustive switches; conflicts are data, never exceptions.
 */
import type { DbObject, ObjectKind, TablePolicy } from "../catalog/snapshot.ts";

/** One config row: column → value as text (null stays null); excluded columns never present. */
export type Row = Record<string, string | null>;

export interface CreateChange {
  type: "create";
  id: string;
  kind: ObjectKind;
  before: null;
  after: DbObject;
}

export interface DropChange {
  type: "drop";
  id: string;
  kind: ObjectKind;
  /** The object as the target (parent) has it now. */
  before: DbObject;
  after: null;
}

export interface AlterChange {
  type: "alter";
  id: string;
  kind: ObjectKind;
  before: DbObject;
  after: DbObject;
}

/** Insert or update of one row of an upsert-policy table, by key. */
export interface RowUpsertChange {
  type: "row-upsert";
  /** `row:S.T:<key JSON>` */
  id: string;
  /** "S.T" */
  table: string;
  /** JSON.stringify(key values). */
  key: string;
  keyColumns: string[];
  before: Row | null;
  after: Row;
}

export interface RowDeleteChange {
  type: "row-delete";
  id: string;
  table: string;
  key: string;
  keyColumns: string[];
  before: Row;
  after: null;
}

/** A row of bough.table_policies set (inserted or changed). */
export interface PolicySetChange {
  type: "policy-set";
  /** `table_policy:S.T` */
  id: string;
  table: string;
  before: TablePolicy | null;
  after: TablePolicy;
}

export interface PolicyDeleteChange {
  type: "policy-delete";
  id: string;
  table: string;
  before: TablePolicy;
  after: null;
}

export type ObjectChange = CreateChange | DropChange | AlterChange;
export type DataChange = RowUpsertChange | RowDeleteChange | PolicySetChange | PolicyDeleteChange;
export type Change = ObjectChange | DataChange;
export type ChangeType = Change["type"];

/** Same identity changed on both sides, to different results. */
export interface ObjectConflict {
  /** both-modified: changed on both sides; both-created: absent at T0, created differently; modify-drop: one side dropped what the other changed. */
  type: "both-modified" | "both-created" | "modify-drop";
  id: string;
  kind: ObjectKind;
  base: DbObject | null;
  parent: DbObject | null;
  branch: DbObject | null;
  /** both-modified: the attributes (diff/attributes.ts) both sides changed differently; "definition" for a kind that is one value. */
  attributes?: string[];
  hint: string;
}

/**
 * A change on one side reads an object (its deps, or a config table's columns) that the
 * other side dropped or changed in a way that breaks readers.
 */
export interface DependencyConflict {
  type: "dependency";
  /** Id of the reading change. */
  id: string;
  /** Which side made the reading change. */
  reader: "branch" | "parent";
  readerChange: Change;
  /** The object read, and its three states. */
  dependsOn: string;
  base: DbObject | null;
  parent: DbObject | null;
  branch: DbObject | null;
  hint: string;
}

/** One cell of a row both sides set to different values since T0 (null: SQL NULL or absent). */
export interface CellConflict {
  column: string;
  base: string | null;
  parent: string | null;
  branch: string | null;
}

export interface RowConflict {
  type: "row-conflict";
  id: string;
  table: string;
  key: string;
  /** The whole rows on each side (null: absent), also for a per-cell conflict. */
  base: Row | null;
  parent: Row | null;
  branch: Row | null;
  /** merge-rows tables: the cells in conflict (others merge); absent when a whole row conflicts. */
  cells?: CellConflict[];
  hint: string;
}

export interface PolicyConflict {
  type: "policy-conflict";
  id: string;
  table: string;
  base: TablePolicy | null;
  parent: TablePolicy | null;
  branch: TablePolicy | null;
  hint: string;
}

export type Conflict = ObjectConflict | DependencyConflict | RowConflict | PolicyConflict;
export type ConflictType = Conflict["type"];

export interface DiffResult {
  /** The branch's changes to apply to the parent, sorted by id. */
  changes: Change[];
  /** What blocks the merge, sorted by id then type. */
  conflicts: Conflict[];
  /** What the parent changed since T0 (kept as is, shown by `branch diff`, never applied). */
  parentChanges: Change[];
}

export const rowId = (table: string, key: string) => `row:${table}:${key}`;
export const tablePolicyId = (table: string) => `table_policy:${table}`;

/** Code-unit order, never locale order, so output does not depend on the machine. */
export function byString(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function assertNever(x: never): never {
  throw new Error(`unexpected value ${JSON.stringify(x)}`);
}
