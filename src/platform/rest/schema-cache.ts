import { RestError, unknownColumn } from "./errors.ts";

/**
 * What the data API knows of a branch's exposed schemas: relations with their columns and
 * keys, relationships through foreign keys, functions, and type names usable in casts.
 * Every identifier the SQL builder emits comes from here, never from the request.
 */
export interface Column {
  name: string;
  /** format_type() text, for messages and function argument records. */
  type: string;
  hasDefault: boolean;
}

export interface Relation {
  schema: string;
  name: string;
  kind: "table" | "view";
  columns: Map<string, Column>;
  /** Primary key columns ([] for views and tables without one). */
  pk: string[];
  /** Column sets that are unique (primary key and unique constraints). */
  uniques: string[][];
}

/** One direction of a foreign key, seen from `from`. */
export interface Relationship {
  constraint: string;
  /** many-to-one: `from` holds the key; one-to-many: `to` holds it; one-to-one either way. */
  cardinality: "many-to-one" | "one-to-many" | "one-to-one";
  from: string;
  fromColumns: string[];
  to: string;
  toColumns: string[];
}

export interface FunctionArg {
  name: string;
  type: string;
  hasDefault: boolean;
}

export interface FunctionDef {
  schema: string;
  name: string;
  args: FunctionArg[];
  volatility: "immutable" | "stable" | "volatile";
  returnsSet: boolean;
  /** void; a scalar; or rows with columns (a table type, RETURNS TABLE, OUT arguments). */
  returns:
    | { kind: "void" }
    | { kind: "scalar" }
    | { kind: "composite"; columns: string[]; relation?: string };
}

export interface SchemaCache {
  /** The branch's schema token this cache was read at. */
  token: string;
  schemas: string[];
  /** By relKey(schema, name). */
  relations: Map<string, Relation>;
  relationships: Map<string, Relationship[]>;
  functions: Map<string, FunctionDef[]>;
  /** Type names (and SQL aliases) → [schema, name], for `::cast`. */
  types: Map<string, [string, string]>;
}

export const relKey = (schema: string, name: string) => `${schema}.${name}`;

/** The table or view, or PGRST205 as PostgREST words it. */
export function relationOf(cache: SchemaCache, schema: string, name: string): Relation {
  const rel = cache.relations.get(relKey(schema, name));
  if (rel) return rel;
  throw new RestError({
    status: 404,
    code: "PGRST205",
    message: `Could not find the table '${schema}.${name}' in the schema cache`,
  });
}

/** A column of rel, or 42703 (what Postgres, and so PostgREST, answers). */
export function columnOf(rel: Relation, name: string): Column {
  const col = rel.columns.get(name);
  if (col) return col;
  throw unknownColumn(rel.name, name);
}

/**
 * The relationship an embed `name!hint` means, from `from`: by related table name (or a
 * foreign key column / constraint name used as the name), narrowed by the hint. None →
 * PGRST200; several → PGRST201 with status 300, as PostgREST.
 */
export function relationshipFor(
  cache: SchemaCache,
  from: Relation,
  o: { name: string; hint?: string },
): Relationship {
  const all = cache.relationships.get(relKey(from.schema, from.name)) ?? [];
  const target = (r: Relationship) => r.to.slice(r.to.indexOf(".") + 1);
  const byKey = (r: Relationship, key: string) =>
    r.constraint === key ||
    (r.cardinality !== "one-to-many" && r.fromColumns.length === 1 && r.fromColumns[0] === key);
  let found = all.filter((r) => target(r) === o.name);
  if (found.length === 0) found = all.filter((r) => byKey(r, o.name));
  if (o.hint !== undefined) {
    const hint = o.hint;
    found = found.filter(
      (r) =>
        r.constraint === hint ||
        (r.fromColumns.length === 1 && r.fromColumns[0] === hint) ||
        (r.toColumns.length === 1 && r.toColumns[0] === hint),
    );
  }
  if (found.length === 1) return found[0];
  const between = `'${from.name}' and '${o.name}'`;
  if (found.length === 0) {
    throw new RestError({
      status: 400,
      code: "PGRST200",
      message: `Could not find a relationship between ${between} in the schema cache`,
      details: `Searched for a foreign key relationship between ${between}${o.hint ? ` using the hint '${o.hint}'` : ""} in the schema '${from.schema}', but no matches were found.`,
      hint: "Check the embedded resource's name and hint against the foreign keys of the schema",
    });
  }
  throw new RestError({
    status: 300,
    code: "PGRST201",
    message: `Could not embed because more than one relationship was found for ${between}`,
    details: found.map((r) => `${r.cardinality} using ${r.constraint}`).join("; "),
    hint: `Try changing '${o.name}' to one of: ${found.map((r) => `'${o.name}!${r.constraint}'`).join(", ")}`,
  });
}

const TYPE_ALIASES: Record<string, string> = {
  int: "int4",
  integer: "int4",
  smallint: "int2",
  bigint: "int8",
  real: "float4",
  float: "float8",
  double: "float8",
  boolean: "bool",
  decimal: "numeric",
  character: "bpchar",
  char: "bpchar",
};

/** `::cast` → the quoted type, from the catalog; an unknown type is 42704 as Postgres says it. */
export function castTypeOf(cache: SchemaCache, name: string): [string, string, boolean] {
  const array = name.endsWith("[]");
  const base = (array ? name.slice(0, -2) : name).trim().toLowerCase();
  const found = cache.types.get(TYPE_ALIASES[base] ?? base);
  if (found) return [found[0], found[1], array];
  throw new RestError({ status: 400, code: "42704", message: `type "${name}" does not exist` });
}
