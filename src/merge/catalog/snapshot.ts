/**
 * The schema + config snapshot of one database: plain, JSON-serialisable data,
 * produced by introspect(), compared by the diff. Every object is keyed by a stable
 * identity (`id`) so the same object has the same key in base, parent and branch.
 *
 * Identities are built in catalog/ids.ts (names quoted where they need it, so
 * they never collide): e.g. table:public.users, column:app."Order".id.
 *
 * Definitions are canonicalised through Postgres' own pg_get_*def functions, so two
 * objects are equal exactly when their comparable fields are equal (see equality.ts).
 */

/**
 * 2: ids quote names that need it, and grantees / policy roles are RoleSpecs (1 joined
 * unquoted names and wrote the PUBLIC pseudo-role as a name). Stored snapshots of an
 * older version are upgraded on read (catalog/upgrade.ts).
 */
export const SNAPSHOT_VERSION = 2;

/**
 * A grantee or policy role: the PUBLIC pseudo-role (grantee 0, everyone) is not a role
 * name, so a real role called "PUBLIC" or "Public" can never be mistaken for it.
 */
export type RoleSpec = { kind: "public" } | { kind: "role"; name: string };

interface ObjectBase {
  /** Stable identity, see the list above. */
  id: string;
  /** Ids of objects this one needs to exist first (from pg_depend and structure). */
  deps: string[];
  /**
   * The owning role, on kinds that have one (schemas, relations, types, functions,
   * collations, event triggers, publications); absent when it is the bootstrap superuser
   * that runs merges, so a stored snapshot without owners reads the same.
   */
  owner?: string;
}

export interface SchemaObject extends ObjectBase {
  kind: "schema";
  name: string;
}

export interface ExtensionObject extends ObjectBase {
  kind: "extension";
  name: string;
  schema: string;
  version: string;
}

export interface CollationObject extends ObjectBase {
  kind: "collation";
  schema: string;
  name: string;
  provider: "libc" | "icu" | "builtin";
  /** ICU or builtin locale (colliculocale on PG 15-16, colllocale on 17+); null for libc. */
  locale: string | null;
  /** libc LC_COLLATE and LC_CTYPE; null for ICU and builtin. */
  lcCollate: string | null;
  lcCtype: string | null;
  deterministic: boolean;
  /** ICU tailoring rules (PG 16+), else null. */
  rules: string | null;
}

export interface EnumObject extends ObjectBase {
  kind: "enum";
  schema: string;
  name: string;
  /** Labels in sort order (enumsortorder). */
  values: string[];
}

export interface DomainObject extends ObjectBase {
  kind: "domain";
  schema: string;
  name: string;
  /** format_type of the base type. */
  baseType: string;
  notNull: boolean;
  default: string | null;
  collation: string | null;
  /** name → pg_get_constraintdef, sorted by name. */
  checks: Record<string, string>;
}

export interface CompositeObject extends ObjectBase {
  kind: "composite";
  schema: string;
  name: string;
  attributes: { name: string; type: string }[];
}

/** A range type (CREATE TYPE AS RANGE), with its multirange; only its comment, grants and owner change in place. */
export interface RangeObject extends ObjectBase {
  kind: "range";
  schema: string;
  name: string;
  /** format_type of the subtype. */
  subtype: string;
  /** The subtype's B-tree operator class, schema-qualified and quoted. */
  opclass: string;
  /** Collation name when it differs from the subtype's default, else null. */
  collation: string | null;
  /** The canonical and subtype_diff functions (regproc text), or null. */
  canonical: string | null;
  subtypeDiff: string | null;
  /** The multirange type that comes with it (its name is chosen at CREATE). */
  multirange: { schema: string; name: string };
}

export interface SequenceObject extends ObjectBase {
  kind: "sequence";
  schema: string;
  name: string;
  dataType: string;
  start: string;
  increment: string;
  min: string;
  max: string;
  cache: string;
  cycle: boolean;
  /** qualified(S, T, C) (catalog/ids.ts) when OWNED BY a column; identity sequences are not listed at all. */
  ownedBy: string | null;
}

export interface TableObject extends ObjectBase {
  kind: "table";
  schema: string;
  name: string;
  /** "p" permanent, "u" unlogged. */
  persistence: "p" | "u";
  /** pg_get_partkeydef for a partitioned table, e.g. "RANGE (created_at)". */
  partitionBy: string | null;
  /** For a partition: parent qualified(S, T) (catalog/ids.ts) and pg_get_expr(relpartbound). */
  partitionOf: { parent: string; bound: string } | null;
  /** Inheritance parents as qualified(S, T) (non-partition), in inhseqno order. */
  inherits: string[];
  rlsEnabled: boolean;
  rlsForced: boolean;
  /** reloptions, sorted, e.g. ["fillfactor=70"]. */
  options: string[];
  /** REPLICA IDENTITY other than DEFAULT (absent); "index" names `replicaIdentityIndex`. */
  replicaIdentity?: "full" | "nothing" | "index";
  /** The index of REPLICA IDENTITY USING INDEX (in the table's schema). */
  replicaIdentityIndex?: string;
}

/** Options of an identity column's sequence, as text like SequenceObject's. */
export interface IdentityOptions {
  start: string;
  increment: string;
  min: string;
  max: string;
  cache: string;
  cycle: boolean;
}

export interface ColumnObject extends ObjectBase {
  kind: "column";
  schema: string;
  table: string;
  name: string;
  /** Physical position; not compared (a column re-added elsewhere is the same column). */
  position: number;
  /** format_type(atttypid, atttypmod). */
  type: string;
  notNull: boolean;
  /** pg_get_expr(adbin) of a plain default, else null. */
  default: string | null;
  identity: "always" | "by-default" | null;
  /** Set exactly when `identity` is: the options of the column's own sequence (pg_sequence). */
  identityOptions?: IdentityOptions;
  /** Expression of a STORED generated column, else null. */
  generated: string | null;
  /** Set exactly when `generated` is: PG 18 also has VIRTUAL generated columns (attgenerated 'v'). */
  generatedKind?: "stored" | "virtual";
  /** Collation name when it differs from the type's default, else null. */
  collation: string | null;
  /** True when the column comes from an inheritance/partition parent only. */
  inherited: boolean;
  /** SET STORAGE, only when it differs from the type's own (absent: the type's). */
  storage?: "plain" | "external" | "main" | "extended";
  /** SET STATISTICS, only when set (absent: the server default). */
  statisticsTarget?: number;
}

export interface ConstraintObject extends ObjectBase {
  kind: "constraint";
  schema: string;
  table: string;
  name: string;
  /** p primary key, u unique, c check, f foreign key, x exclusion, n not null (PG 18). */
  type: "p" | "u" | "c" | "f" | "x" | "n";
  /** pg_get_constraintdef(oid, true). */
  definition: string;
  /** For foreign keys: referenced table as qualified(S, T). */
  references: string | null;
  inherited: boolean;
}

export interface IndexObject extends ObjectBase {
  kind: "index";
  schema: string;
  table: string;
  name: string;
  /** pg_get_indexdef(oid); indexes that back constraints are not listed. */
  definition: string;
}

export interface ViewObject extends ObjectBase {
  kind: "view" | "matview";
  schema: string;
  name: string;
  /** pg_get_viewdef(oid, true). */
  definition: string;
  options: string[];
}

export interface FunctionObject extends ObjectBase {
  kind: "function";
  schema: string;
  name: string;
  /** pg_get_function_identity_arguments, the part of the identity in parentheses. */
  identityArgs: string;
  /** f function, p procedure, a aggregate, w window. */
  prokind: "f" | "p" | "a" | "w";
  /** pg_get_functiondef (CREATE OR REPLACE ...); for aggregates a CREATE AGGREGATE text. */
  definition: string;
  /** format_type of the result, for deciding CREATE OR REPLACE vs drop + create. */
  returns: string | null;
}

export interface TriggerObject extends ObjectBase {
  kind: "trigger";
  schema: string;
  table: string;
  name: string;
  /** pg_get_triggerdef(oid, true). */
  definition: string;
  /** O origin (default), D disabled, R replica, A always. */
  enabled: "O" | "D" | "R" | "A";
}

/** A rewrite rule of a table or view (CREATE RULE); a view's own _RETURN rule is the view. */
export interface RuleObject extends ObjectBase {
  kind: "rule";
  schema: string;
  table: string;
  name: string;
  /** pg_get_ruledef(oid, true). */
  definition: string;
  /** ev_enabled: O origin (default), D disabled, R replica, A always. */
  enabled: "O" | "D" | "R" | "A";
}

/** Extended statistics (CREATE STATISTICS), in their own schema, on one table or matview. */
export interface StatisticsObject extends ObjectBase {
  kind: "statistics";
  schema: string;
  name: string;
  /** The relation as qualified(S, T) (catalog/ids.ts). */
  relation: string;
  /** pg_get_statisticsobjdef: kinds, columns and expressions. */
  definition: string;
  /** ALTER STATISTICS ... SET STATISTICS, only when set (absent: the default). */
  statisticsTarget?: number;
}

export interface EventTriggerObject extends ObjectBase {
  kind: "event_trigger";
  name: string;
  event: string;
  tags: string[];
  /** qualified(S, F) + "()" of the trigger function. */
  function: string;
  enabled: "O" | "D" | "R" | "A";
}

/** A publication (logical replication, and which tables Realtime streams). */
export interface PublicationObject extends ObjectBase {
  kind: "publication";
  name: string;
  /** FOR ALL TABLES. */
  allTables: boolean;
  /** The published actions, in the order insert, update, delete, truncate. */
  publish: string[];
  /** publish_via_partition_root. */
  viaRoot: boolean;
}

/** One table in a publication (its own object, so two branches adding tables both merge). */
export interface PublicationTableObject extends ObjectBase {
  kind: "publication_table";
  publication: string;
  schema: string;
  table: string;
  /** The column list (PG 15+), in column order; null for every column. */
  columns: string[] | null;
  /** The WHERE row filter (PG 15+, pg_get_expr); null for every row. */
  rowFilter: string | null;
}

/** A schema in a publication: FOR TABLES IN SCHEMA (PG 15+). */
export interface PublicationSchemaObject extends ObjectBase {
  kind: "publication_schema";
  publication: string;
  schema: string;
}

export interface PolicyObject extends ObjectBase {
  kind: "policy";
  schema: string;
  table: string;
  name: string;
  permissive: boolean;
  /** ALL, SELECT, INSERT, UPDATE, DELETE. */
  command: string;
  /** Roles sorted by granteeKey (catalog/ids.ts); PUBLIC is { kind: "public" }. */
  roles: RoleSpec[];
  using: string | null;
  withCheck: string | null;
}

export interface GrantObject extends ObjectBase {
  kind: "grant";
  /** What is granted on: "table" covers views, matviews and sequences' tables too. */
  targetKind: "table" | "column" | "sequence" | "function" | "schema" | "type";
  /** Id of the object granted on (for columns the column id). */
  target: string;
  grantee: RoleSpec;
  /** Privilege names sorted, e.g. ["INSERT", "SELECT*"]; "*" marks WITH GRANT OPTION. */
  privileges: string[];
}

/** What ALTER DEFAULT PRIVILEGES applies to: pg_default_acl.defaclobjtype. */
export type DefaultPrivilegeObjects =
  | "tables"
  | "sequences"
  | "functions"
  | "types"
  | "schemas"
  | "large objects";

/**
 * One grantee's default privileges in one pg_default_acl entry: for objects `role` creates
 * (in `schema`, or anywhere when null) of kind `objects`. Present only where they differ from
 * `builtin`, what the grantee has without any entry: a global entry replaces the built-in
 * defaults (the role's own rights, PUBLIC's EXECUTE / USAGE), a schema entry adds to none.
 */
export interface DefaultPrivilegeObject extends ObjectBase {
  kind: "default_privilege";
  role: string;
  schema: string | null;
  objects: DefaultPrivilegeObjects;
  grantee: RoleSpec;
  /** Privilege names sorted, "*" marking WITH GRANT OPTION, as GrantObject's. */
  privileges: string[];
  /** The grantee's built-in default privileges (acldefault; none in a schema entry). */
  builtin: string[];
}

export interface CommentObject extends ObjectBase {
  kind: "comment";
  /** Id of the object commented on. */
  target: string;
  text: string;
}

export type DbObject =
  | SchemaObject
  | ExtensionObject
  | CollationObject
  | EnumObject
  | DomainObject
  | CompositeObject
  | RangeObject
  | SequenceObject
  | TableObject
  | ColumnObject
  | ConstraintObject
  | IndexObject
  | ViewObject
  | FunctionObject
  | TriggerObject
  | RuleObject
  | StatisticsObject
  | EventTriggerObject
  | PublicationObject
  | PublicationTableObject
  | PublicationSchemaObject
  | PolicyObject
  | GrantObject
  | DefaultPrivilegeObject
  | CommentObject;

export type ObjectKind = DbObject["kind"];

/** Merge policy of one table, from bough.table_policies. */
export interface TablePolicy {
  /** The table_name as written in bough.table_policies ("S.T", names unquoted). */
  table: string;
  /** upsert: config rows by key; merge-rows: rows by primary key, merged cell by cell; ignore: never merged. */
  policy: "ignore" | "upsert" | "merge-rows";
  /** Key columns for upsert, in order (merge-rows: empty or the primary key). */
  key: string[];
  /** Columns never merged nor shown (secret values). */
  excluded: string[];
}

/** Rows a merge-rows table may have: every side's rows are held in memory and stored with T0. */
export const MERGE_ROWS_LIMIT = 50_000;

/** Rows of one table whose policy is upsert or merge-rows, keyed by JSON.stringify(key values). */
export interface DataTable {
  table: string;
  key: string[];
  excluded: string[];
  /** Column names compared (all but excluded), sorted. */
  columns: string[];
  /** key JSON → column → value as text (null stays null), excluded columns absent. */
  rows: Record<string, Record<string, string | null>>;
  /** Why the rows were not read (merge-rows without a primary key, over the row limit): merging it is refused. */
  refused?: string;
}

export interface Snapshot {
  version: typeof SNAPSHOT_VERSION;
  /** Postgres server_version_num of the source. */
  serverVersion: number;
  /** id → object, keys sorted. */
  objects: Record<string, DbObject>;
  /** "S.T" → policy, for every table listed in bough.table_policies. */
  policies: Record<string, TablePolicy>;
  /** "S.T" → rows, for tables whose policy is upsert or merge-rows. */
  data: Record<string, DataTable>;
}
