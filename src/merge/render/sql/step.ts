import type { ColumnObject, DbObject, TableObject } from "../../catalog/snapshot.ts";

/**
 * What a statement risks on a live database, shown beside it in the preview.
 * - access-exclusive-lock: blocks every read and write of the table while it runs
 * - blocks-writes: takes a SHARE-class lock (CREATE INDEX, ADD FOREIGN KEY): reads go on
 * - rewrites-table: rewrites every row (time and disk proportional to the table)
 * - deletes-data: drops stored data (a table, a column, rows)
 * - may-fail-on-existing-rows: checks existing rows (NOT NULL, CHECK, UNIQUE, FK, casts)
 * - drops-dependents: dependents are dropped first and recreated after
 * - overwrites-data: replaces the parent's value of a config row
 * - populates-materialized-view: runs the view's query to fill it
 * - reaches-outside-the-database: a migration runs a program, touches server files, loads
 *   untrusted code or dials out (plan/server-access.ts)
 */
export type Hazard =
  | "access-exclusive-lock"
  | "blocks-writes"
  | "rewrites-table"
  | "deletes-data"
  | "may-fail-on-existing-rows"
  | "drops-dependents"
  | "overwrites-data"
  | "populates-materialized-view"
  | "reaches-outside-the-database";

/** One SQL statement made from one change, with what it risks. */
export interface SqlStep {
  sql: string;
  hazards: Hazard[];
  notes?: string[];
  /** Ids that must exist before this step, beyond the object's own deps (e.g. OWNED BY's column). */
  requires?: string[];
  /** Tables whose column changes must all come first (ATTACH PARTITION). */
  afterColumnsOf?: string[];
  /** The enum label an ALTER TYPE ... ADD VALUE adds (unusable until commit). */
  addsLabel?: string;
  /** A create's follow-up that changes the object after it exists (for ordering). */
  followUp?: boolean;
  /** Runs before everything else (a default privilege revoked, so objects the plan creates do not get it). */
  early?: boolean;
}

/** Column id → the USING expression of its type change, carried from the branch's own DDL. */
export type Conversions = Readonly<Record<string, { using: string; source: string }>>;

/** Finds objects the SQL must name (grant and comment targets, an owning column): branch first, then parent. */
export interface SqlContext {
  lookup(id: string): DbObject | undefined;
  /** The branch's own (not inherited) columns of a table, by position: what CREATE TABLE lists. */
  columnsOf(table: TableObject): ColumnObject[];
  /** The branch's inherited columns of a table (a partition's, by position). */
  inheritedColumnsOf(table: TableObject): ColumnObject[];
  /** The branch's own USING for a column's type change, when it has one. */
  conversionOf?(columnId: string): { using: string; source: string } | undefined;
}

/** How an object of one kind changes in place, or why it cannot. */
export type Impact =
  /** ALTER statements; readers are unaffected. */
  | "in-place"
  /** ALTER statements, but readers (views, policies, triggers, functions) must be dropped first and recreated after. */
  | "reshape"
  /** DROP then CREATE; everything depending on it is recreated too. */
  | "recreate"
  /** A type in use is renamed away, recreated, its columns converted, the old one dropped. */
  | "retype";

export interface Converter<T extends DbObject> {
  create(obj: T, ctx: SqlContext): SqlStep[];
  drop(obj: T, ctx: SqlContext): SqlStep[];
  /** Statements for an in-place change (impact in-place or reshape). */
  alter(before: T, after: T, ctx: SqlContext): SqlStep[];
  impact(before: T, after: T): Impact;
}

export const step = (
  sql: string,
  hazards: Hazard[] = [],
  extra: Partial<SqlStep> = {},
): SqlStep => ({
  sql,
  hazards,
  ...extra,
});

export const LOCK: Hazard = "access-exclusive-lock";
