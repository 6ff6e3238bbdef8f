/**
 * How each object is named in SQL. Names always go through quoteIdent; texts that come
 * from pg_get_*def / format_type are canonical SQL already and are used as they are.
 */
import { quoteIdent, quoteLiteral } from "../../../core/names.ts";
import { configTableId } from "../../catalog/ids.ts";
import type {
  DbObject,
  FunctionObject,
  RoleSpec,
  Snapshot,
  TableObject,
} from "../../catalog/snapshot.ts";
import { assertNever } from "../../diff/changes.ts";

export const qname = (schema: string, name: string) => `${quoteIdent(schema)}.${quoteIdent(name)}`;

/** The table (or view) a member object belongs to. */
export const tableRef = (o: { schema: string; table: string }) => qname(o.schema, o.table);

/**
 * A role in GRANT / CREATE POLICY: the pseudo-role is the keyword PUBLIC, every role an
 * identifier, always quoted (a role named "PUBLIC" or "Public" is not the keyword).
 */
export const roleRef = (role: RoleSpec) =>
  role.kind === "public" ? "PUBLIC" : quoteIdent(role.name);

export function functionRef(f: FunctionObject): string {
  // An aggregate of no arguments is written f(*).
  const args = f.prokind === "a" && f.identityArgs === "" ? "*" : f.identityArgs;
  return `${qname(f.schema, f.name)}(${args})`;
}

/** Keyword of the object class in DROP / COMMENT ON / ALTER, e.g. "MATERIALIZED VIEW". */
export function classWord(o: DbObject): string {
  switch (o.kind) {
    case "schema":
      return "SCHEMA";
    case "extension":
      return "EXTENSION";
    case "collation":
      return "COLLATION";
    case "enum":
    case "composite":
    case "range":
      return "TYPE";
    case "domain":
      return "DOMAIN";
    case "sequence":
      return "SEQUENCE";
    case "table":
      return "TABLE";
    case "column":
      return "COLUMN";
    case "constraint":
      return "CONSTRAINT";
    case "index":
      return "INDEX";
    case "view":
      return "VIEW";
    case "matview":
      return "MATERIALIZED VIEW";
    case "function":
      return o.prokind === "p" ? "PROCEDURE" : o.prokind === "a" ? "AGGREGATE" : "FUNCTION";
    case "trigger":
      return "TRIGGER";
    case "rule":
      return "RULE";
    case "statistics":
      return "STATISTICS";
    case "event_trigger":
      return "EVENT TRIGGER";
    case "publication":
    case "publication_table":
    case "publication_schema":
      return "PUBLICATION";
    case "policy":
      return "POLICY";
    case "grant":
      return "GRANT";
    case "default_privilege":
      return "DEFAULT PRIVILEGES";
    case "comment":
      return "COMMENT";
    default:
      return assertNever(o);
  }
}

/** The object's name as written after its class word (members as `"n" ON "s"."t"`). */
export function objectRef(o: DbObject): string {
  switch (o.kind) {
    case "schema":
      return quoteIdent(o.name);
    case "extension":
      return quoteIdent(o.name);
    case "event_trigger":
    case "publication":
      return quoteIdent(o.name);
    case "publication_table":
      return `${quoteIdent(o.publication)} TABLE ${qname(o.schema, o.table)}`;
    case "publication_schema":
      return `${quoteIdent(o.publication)} TABLES IN SCHEMA ${quoteIdent(o.schema)}`;
    case "collation":
    case "enum":
    case "domain":
    case "composite":
    case "range":
    case "sequence":
    case "table":
    case "index":
    case "view":
    case "matview":
    case "statistics":
      return qname(o.schema, o.name);
    case "column":
      return `${tableRef(o)}.${quoteIdent(o.name)}`;
    case "constraint":
    case "trigger":
    case "rule":
    case "policy":
      return `${quoteIdent(o.name)} ON ${tableRef(o)}`;
    case "function":
      return functionRef(o);
    case "grant":
    case "comment":
      return o.target;
    case "default_privilege":
      return o.id;
    default:
      return assertNever(o);
  }
}

/** `"S"."T"` of a table given as "S.T" (config tables): found in the snapshot, else split at the first dot. */
export function tableNameRef(table: string, snaps: Snapshot[]): string {
  const t = findTable(table, snaps);
  if (t) return qname(t.schema, t.name);
  const dot = table.indexOf(".");
  return dot < 0 ? quoteIdent(table) : qname(table.slice(0, dot), table.slice(dot + 1));
}

/** The table a bough.table_policies name ("S.T", unquoted) means, in the first snapshot that has it. */
export function findTable(table: string, snaps: Snapshot[]): TableObject | undefined {
  for (const s of snaps) {
    const t = s.objects[configTableId(table, (id) => s.objects[id]?.kind === "table")];
    if (t?.kind === "table") return t;
  }
  return undefined;
}

export const lit = quoteLiteral;

/** Body text from pg_get_*def without its trailing semicolon / whitespace, so we add exactly one. */
export const bare = (def: string) => def.replace(/[\s;]+$/u, "");
