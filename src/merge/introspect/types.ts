import type pg from "pg";
import { schemaId, schemaObjectId } from "../catalog/ids.ts";
import type {
  CompositeObject,
  DomainObject,
  EnumObject,
  RangeObject,
} from "../catalog/snapshot.ts";
import { type IntrospectContext, notExtensionMember, USER_OID, userSchema } from "./context.ts";

/** Enums, domains, composite and range types (base types are not merge objects yet). */
export async function readTypes(
  client: pg.ClientBase,
  ctx: IntrospectContext,
): Promise<(EnumObject | DomainObject | CompositeObject | RangeObject)[]> {
  return [
    ...(await readEnums(client, ctx)),
    ...(await readDomains(client, ctx)),
    ...(await readComposites(client, ctx)),
    ...(await readRanges(client, ctx)),
  ];
}

interface TypeRow {
  oid: number;
  typarray: number;
  schema: string;
  name: string;
}

const TYPE_FROM = `FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace`;
const TYPE_WHERE = `t.oid >= ${USER_OID} AND ${userSchema("n")} AND ${notExtensionMember("pg_type", "t.oid")}`;

/** Registers the type and its array type (a column of enum[] depends on the array type). */
function register(ctx: IntrospectContext, r: TypeRow, id: string) {
  ctx.ids.add("pg_type", r.oid, 0, id);
  ctx.ids.addAlias("pg_type", r.typarray, 0, id);
}

async function readEnums(client: pg.ClientBase, ctx: IntrospectContext): Promise<EnumObject[]> {
  const { rows } = await client.query<TypeRow & { labels: string[] }>(
    `SELECT t.oid, t.typarray, n.nspname AS schema, t.typname AS name,
            array(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) AS labels
       ${TYPE_FROM}
      WHERE t.typtype = 'e' AND ${TYPE_WHERE}`,
    [ctx.excluded],
  );
  return rows.map((r) => {
    const id = schemaObjectId("enum", r.schema, r.name);
    register(ctx, r, id);
    return {
      kind: "enum",
      id,
      deps: [schemaId(r.schema)],
      schema: r.schema,
      name: r.name,
      values: r.labels,
    };
  });
}

interface DomainRow extends TypeRow {
  base: string;
  not_null: boolean;
  default_expr: string | null;
  collation: string | null;
  checks: { oid: number; name: string; def: string }[];
}

async function readDomains(client: pg.ClientBase, ctx: IntrospectContext): Promise<DomainObject[]> {
  // PG 17+ also keeps a domain's NOT NULL in pg_constraint (contype 'n'); typnotnull says the same.
  const { rows } = await client.query<DomainRow>(
    `SELECT t.oid, t.typarray, n.nspname AS schema, t.typname AS name,
            format_type(t.typbasetype, t.typtypmod) AS base, t.typnotnull AS not_null,
            pg_get_expr(t.typdefaultbin, 0) AS default_expr,
            CASE WHEN t.typcollation <> 0 AND t.typcollation <> b.typcollation
                 THEN t.typcollation::regcollation::text END AS collation,
            (SELECT coalesce(json_agg(json_build_object('oid', c.oid, 'name', c.conname,
                                                        'def', pg_get_constraintdef(c.oid, true))), '[]')
               FROM pg_constraint c WHERE c.contypid = t.oid AND c.contype = 'c') AS checks
       ${TYPE_FROM} JOIN pg_type b ON b.oid = t.typbasetype
      WHERE t.typtype = 'd' AND ${TYPE_WHERE}`,
    [ctx.excluded],
  );
  return rows.map((r) => {
    const id = schemaObjectId("domain", r.schema, r.name);
    register(ctx, r, id);
    const checks: Record<string, string> = {};
    for (const c of [...r.checks].sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    )) {
      ctx.ids.addAlias("pg_constraint", c.oid, 0, id);
      checks[c.name] = c.def;
    }
    return {
      kind: "domain",
      id,
      deps: [schemaId(r.schema)],
      schema: r.schema,
      name: r.name,
      baseType: r.base,
      notNull: r.not_null,
      default: r.default_expr,
      collation: r.collation,
      checks,
    };
  });
}

interface CompositeRow extends TypeRow {
  relid: number;
  attributes: { name: string; type: string }[];
}

async function readComposites(
  client: pg.ClientBase,
  ctx: IntrospectContext,
): Promise<CompositeObject[]> {
  const { rows } = await client.query<CompositeRow>(
    `SELECT t.oid, t.typarray, t.typrelid AS relid, n.nspname AS schema, t.typname AS name,
            (SELECT coalesce(json_agg(json_build_object('name', a.attname,
                                                        'type', format_type(a.atttypid, a.atttypmod))
                                      ORDER BY a.attnum), '[]')
               FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped) AS attributes
       ${TYPE_FROM} JOIN pg_class c ON c.oid = t.typrelid
      WHERE t.typtype = 'c' AND c.relkind = 'c' AND ${TYPE_WHERE}`,
    [ctx.excluded],
  );
  return rows.map((r) => {
    const id = schemaObjectId("composite", r.schema, r.name);
    register(ctx, r, id);
    // pg_depend records the attribute types against the composite's pg_class entry.
    ctx.ids.addAlias("pg_class", r.relid, 0, id);
    return {
      kind: "composite",
      id,
      deps: [schemaId(r.schema)],
      schema: r.schema,
      name: r.name,
      attributes: r.attributes,
    };
  });
}

interface RangeRow extends TypeRow {
  multirange_oid: number;
  multirange_array: number;
  multirange_schema: string;
  multirange_name: string;
  subtype: string;
  opclass: string;
  collation: string | null;
  canonical: string | null;
  subtype_diff: string | null;
}

/**
 * Range types with their multirange (PG 14+), which comes and goes with the range: a column
 * of either, or of their arrays, depends on the range. The opclass is always written out, the
 * collation only when it is not the subtype's own.
 */
async function readRanges(client: pg.ClientBase, ctx: IntrospectContext): Promise<RangeObject[]> {
  const { rows } = await client.query<RangeRow>(
    `SELECT t.oid, t.typarray, n.nspname AS schema, t.typname AS name,
            m.oid AS multirange_oid, m.typarray AS multirange_array,
            mn.nspname AS multirange_schema, m.typname AS multirange_name,
            format_type(r.rngsubtype, NULL) AS subtype,
            format('%I.%I', opn.nspname, opc.opcname) AS opclass,
            CASE WHEN r.rngcollation <> 0 AND r.rngcollation <> s.typcollation
                 THEN r.rngcollation::regcollation::text END AS collation,
            CASE WHEN r.rngcanonical <> 0 THEN r.rngcanonical::regproc::text END AS canonical,
            CASE WHEN r.rngsubdiff <> 0 THEN r.rngsubdiff::regproc::text END AS subtype_diff
       ${TYPE_FROM}
       JOIN pg_range r ON r.rngtypid = t.oid
       JOIN pg_type s ON s.oid = r.rngsubtype
       JOIN pg_type m ON m.oid = r.rngmultitypid
       JOIN pg_namespace mn ON mn.oid = m.typnamespace
       JOIN pg_opclass opc ON opc.oid = r.rngsubopc
       JOIN pg_namespace opn ON opn.oid = opc.opcnamespace
      WHERE t.typtype = 'r' AND ${TYPE_WHERE}`,
    [ctx.excluded],
  );
  return rows.map((r) => {
    const id = schemaObjectId("range", r.schema, r.name);
    register(ctx, r, id);
    ctx.ids.addAlias("pg_type", r.multirange_oid, 0, id);
    ctx.ids.addAlias("pg_type", r.multirange_array, 0, id);
    return {
      kind: "range",
      id,
      deps: [schemaId(r.schema)],
      schema: r.schema,
      name: r.name,
      subtype: r.subtype,
      opclass: r.opclass,
      collation: r.collation,
      canonical: r.canonical,
      subtypeDiff: r.subtype_diff,
      multirange: { schema: r.multirange_schema, name: r.multirange_name },
    };
  });
}
