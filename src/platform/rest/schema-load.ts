import type pg from "pg";
import {
  type Column,
  type FunctionDef,
  type Relation,
  type Relationship,
  relKey,
  type SchemaCache,
} from "./schema-cache.ts";

// Catalog queries of the schema cache, one per kind, each bound to the exposed schemas ($1).
const RELATIONS_SQL = `
SELECT n.nspname AS schema, c.relname AS name, c.relkind IN ('r', 'p', 'f') AS is_table,
  coalesce((SELECT json_agg(json_build_object('name', a.attname,
      'type', format_type(a.atttypid, a.atttypmod),
      'hasDefault', a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> '') ORDER BY a.attnum)
    FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '[]') AS columns,
  coalesce((SELECT json_agg(json_build_object('primary', k.contype = 'p', 'columns',
      (SELECT json_agg(a.attname ORDER BY u.ord) FROM unnest(k.conkey) WITH ORDINALITY u(num, ord)
         JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.num)))
    FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype IN ('p', 'u')), '[]') AS uniques
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'p', 'f', 'v', 'm')`;

const colNames = (rel: string, cols: string) =>
  `(SELECT json_agg(a.attname ORDER BY u.ord) FROM unnest(${cols}) WITH ORDINALITY u(num, ord)
     JOIN pg_attribute a ON a.attrelid = ${rel} AND a.attnum = u.num)`;

const FOREIGN_KEYS_SQL = `
SELECT k.conname AS name, fn.nspname AS from_schema, f.relname AS from_table,
  ${colNames("k.conrelid", "k.conkey")} AS from_columns,
  tn.nspname AS to_schema, t.relname AS to_table, ${colNames("k.confrelid", "k.confkey")} AS to_columns
FROM pg_constraint k
JOIN pg_class f ON f.oid = k.conrelid JOIN pg_namespace fn ON fn.oid = f.relnamespace
JOIN pg_class t ON t.oid = k.confrelid JOIN pg_namespace tn ON tn.oid = t.relnamespace
WHERE k.contype = 'f' AND fn.nspname = ANY($1::text[]) AND tn.nspname = ANY($1::text[])`;

// The tables each view reads (through its rewrite rule), for relationships of views.
const VIEW_BASES_SQL = `
SELECT DISTINCT vn.nspname AS view_schema, v.relname AS view_name, tn.nspname AS table_schema, t.relname AS table_name
FROM pg_class v JOIN pg_namespace vn ON vn.oid = v.relnamespace
JOIN pg_rewrite r ON r.ev_class = v.oid
JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid AND d.refclassid = 'pg_class'::regclass
JOIN pg_class t ON t.oid = d.refobjid AND t.oid <> v.oid AND t.relkind IN ('r', 'p', 'f')
JOIN pg_namespace tn ON tn.oid = t.relnamespace
WHERE v.relkind IN ('v', 'm') AND vn.nspname = ANY($1::text[])`;

const FUNCTIONS_SQL = `
SELECT n.nspname AS schema, p.proname AS name, p.provolatile AS volatility, p.proretset AS returns_set,
  p.pronargs AS nargs, p.pronargdefaults AS ndefaults,
  coalesce((SELECT json_agg(json_build_object('name', coalesce(p.proargnames[i], ''),
      'type', format_type(coalesce(p.proallargtypes[i], p.proargtypes[i - 1]), NULL),
      'mode', coalesce(p.proargmodes[i], 'i')) ORDER BY i)
    FROM generate_series(1, coalesce(array_length(p.proallargtypes, 1), p.pronargs)) i), '[]') AS args,
  rt.typname = 'void' AS returns_void, rt.typtype AS ret_typtype,
  rc.relname AS ret_rel, rcn.nspname AS ret_rel_schema,
  (SELECT json_agg(a.attname ORDER BY a.attnum) FROM pg_attribute a
     WHERE a.attrelid = rt.typrelid AND a.attnum > 0 AND NOT a.attisdropped) AS ret_columns
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
JOIN pg_type rt ON rt.oid = p.prorettype
LEFT JOIN pg_class rc ON rc.oid = rt.typrelid LEFT JOIN pg_namespace rcn ON rcn.oid = rc.relnamespace
WHERE n.nspname = ANY($1::text[]) AND p.prokind = 'f'
  AND rt.typname NOT IN ('trigger', 'event_trigger', 'internal')`;

const TYPES_SQL = `
SELECT n.nspname AS schema, t.typname AS name FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE (n.nspname = 'pg_catalog' OR n.nspname = ANY($1::text[])) AND t.typtype IN ('b', 'd', 'e', 'r', 'm', 'c')
  AND t.typname NOT LIKE '\\_%' ORDER BY n.nspname = 'pg_catalog'`;

/** Reads the schema cache of `schemas` (any role may: the catalogs are public). */
export async function loadSchemaCache(
  client: pg.ClientBase,
  o: { schemas: string[]; token: string },
): Promise<SchemaCache> {
  const p = [o.schemas];
  const [rels, fks, views, fns, types] = [
    await client.query(RELATIONS_SQL, p),
    await client.query(FOREIGN_KEYS_SQL, p),
    await client.query(VIEW_BASES_SQL, p),
    await client.query(FUNCTIONS_SQL, p),
    await client.query(TYPES_SQL, p),
  ];
  const relations = new Map<string, Relation>();
  for (const r of rels.rows) {
    const uniques = (r.uniques as { primary: boolean; columns: string[] }[]) ?? [];
    relations.set(relKey(r.schema, r.name), {
      schema: r.schema,
      name: r.name,
      kind: r.is_table ? "table" : "view",
      columns: new Map((r.columns as Column[]).map((c) => [c.name, c])),
      pk: uniques.find((u) => u.primary)?.columns ?? [],
      uniques: uniques.map((u) => u.columns),
    });
  }
  const typeMap = new Map<string, [string, string]>();
  for (const t of types.rows) if (!typeMap.has(t.name)) typeMap.set(t.name, [t.schema, t.name]);
  return {
    token: o.token,
    schemas: o.schemas,
    relations,
    relationships: relationshipsOf(relations, fks.rows, views.rows),
    functions: functionsOf(fns.rows),
    types: typeMap,
  };
}

interface FkRow {
  name: string;
  from_schema: string;
  from_table: string;
  from_columns: string[];
  to_schema: string;
  to_table: string;
  to_columns: string[];
}

const sameSet = (a: string[], b: string[]) =>
  a.length === b.length && a.every((x) => b.includes(x));

/**
 * Both directions of every foreign key, then the same for views: a view that reads a table
 * and shows all of a key's columns under their own names gets that table's relationships
 * (PostgREST traces view columns through the query tree; bough matches names, simpler).
 */
function relationshipsOf(
  relations: Map<string, Relation>,
  fks: FkRow[],
  views: { view_schema: string; view_name: string; table_schema: string; table_name: string }[],
): Map<string, Relationship[]> {
  const out = new Map<string, Relationship[]>();
  const add = (r: Relationship) => {
    const list = out.get(r.from) ?? [];
    if (
      !list.some(
        (x) => x.constraint === r.constraint && x.to === r.to && x.cardinality === r.cardinality,
      )
    )
      list.push(r);
    out.set(r.from, list);
  };
  const viewsOf = new Map<string, string[]>();
  for (const v of views) {
    const table = relKey(v.table_schema, v.table_name);
    viewsOf.set(table, [...(viewsOf.get(table) ?? []), relKey(v.view_schema, v.view_name)]);
  }
  const shows = (rel: string, cols: string[]) =>
    cols.every((c) => relations.get(rel)?.columns.has(c));
  for (const fk of fks) {
    const child = relKey(fk.from_schema, fk.from_table);
    const parent = relKey(fk.to_schema, fk.to_table);
    const oneToOne =
      relations.get(child)?.uniques.some((u) => sameSet(u, fk.from_columns)) ?? false;
    const children = [
      child,
      ...(viewsOf.get(child) ?? []).filter((v) => shows(v, fk.from_columns)),
    ];
    const parents = [parent, ...(viewsOf.get(parent) ?? []).filter((v) => shows(v, fk.to_columns))];
    for (const c of children) {
      for (const p of parents) {
        add({
          constraint: fk.name,
          cardinality: oneToOne ? "one-to-one" : "many-to-one",
          from: c,
          fromColumns: fk.from_columns,
          to: p,
          toColumns: fk.to_columns,
        });
        add({
          constraint: fk.name,
          cardinality: oneToOne ? "one-to-one" : "one-to-many",
          from: p,
          fromColumns: fk.to_columns,
          to: c,
          toColumns: fk.from_columns,
        });
      }
    }
  }
  return out;
}

interface FnRow {
  schema: string;
  name: string;
  volatility: "i" | "s" | "v";
  returns_set: boolean;
  nargs: number;
  ndefaults: number;
  args: { name: string; type: string; mode: string }[];
  returns_void: boolean;
  ret_typtype: string;
  ret_rel: string | null;
  ret_rel_schema: string | null;
  ret_columns: string[] | null;
}

const VOLATILITY = { i: "immutable", s: "stable", v: "volatile" } as const;

function functionsOf(rows: FnRow[]): Map<string, FunctionDef[]> {
  const out = new Map<string, FunctionDef[]>();
  for (const r of rows) {
    const inputs = r.args.filter((a) => a.mode === "i" || a.mode === "b" || a.mode === "v");
    const outputs = r.args.filter((a) => a.mode === "o" || a.mode === "b" || a.mode === "t");
    const firstDefault = r.nargs - r.ndefaults;
    const def: FunctionDef = {
      schema: r.schema,
      name: r.name,
      args: inputs.map((a, i) => ({ name: a.name, type: a.type, hasDefault: i >= firstDefault })),
      volatility: VOLATILITY[r.volatility],
      returnsSet: r.returns_set,
      returns: r.returns_void
        ? { kind: "void" }
        : outputs.length > 0 && r.ret_typtype === "p"
          ? { kind: "composite", columns: outputs.map((a) => a.name) }
          : r.ret_typtype === "c" && r.ret_columns
            ? {
                kind: "composite",
                columns: r.ret_columns,
                relation: r.ret_rel ? relKey(r.ret_rel_schema ?? "", r.ret_rel) : undefined,
              }
            : { kind: "scalar" },
    };
    const key = relKey(r.schema, r.name);
    out.set(key, [...(out.get(key) ?? []), def]);
  }
  return out;
}
