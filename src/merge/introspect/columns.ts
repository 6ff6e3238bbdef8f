import type pg from "pg";
import { columnId } from "../catalog/ids.ts";
import type { ColumnObject } from "../catalog/snapshot.ts";
import { type IntrospectContext, notExtensionMember, USER_OID, userSchema } from "./context.ts";
import { relationId } from "./ids.ts";

interface Row {
  relid: number;
  attnum: number;
  attrdef: number | null;
  schema: string;
  table: string;
  name: string;
  type: string;
  not_null: boolean;
  identity: "" | "a" | "d";
  generated: "" | "s" | "v";
  is_local: boolean;
  expr: string | null;
  collation: string | null;
  storage: "p" | "e" | "m" | "x" | null;
  stattarget: number | null;
  seq_start: string | null;
  seq_increment: string | null;
  seq_min: string | null;
  seq_max: string | null;
  seq_cache: string | null;
  seq_cycle: boolean | null;
}

const STORAGE = { p: "plain", e: "external", m: "main", x: "extended" } as const;

/**
 * Columns of tables (view columns belong to the view's definition). The default or
 * generation expression lives in pg_attrdef, whose pg_depend rows are the column's.
 * A plain default cannot mention columns, so it is printed without the table as context:
 * giving the table makes pg_get_expr open it, the costliest step on a cold connection.
 * An identity column's sequence (pg_depend 'i') is part of the column: its options are.
 * Storage is read only where it is not the type's own (a retype resets it to the new
 * type's), the statistics target only where it is set (-1 before PG 17, null after).
 */
export async function readColumns(
  client: pg.ClientBase,
  ctx: IntrospectContext,
): Promise<ColumnObject[]> {
  const { rows } = await client.query<Row>(
    `SELECT a.attrelid AS relid, a.attnum, ad.oid AS attrdef, n.nspname AS schema, c.relname AS table,
            a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
            a.attidentity AS identity, a.attgenerated AS generated, a.attislocal AS is_local,
            CASE WHEN a.attgenerated = '' THEN pg_get_expr(ad.adbin, 0)
                 ELSE pg_get_expr(ad.adbin, ad.adrelid) END AS expr,
            CASE WHEN a.attcollation <> t.typcollation THEN a.attcollation::regcollation::text END AS collation,
            CASE WHEN a.attstorage <> t.typstorage THEN a.attstorage::text END AS storage,
            CASE WHEN a.attstattarget >= 0 THEN a.attstattarget::int END AS stattarget,
            s.seqstart::text AS seq_start, s.seqincrement::text AS seq_increment, s.seqmin::text AS seq_min,
            s.seqmax::text AS seq_max, s.seqcache::text AS seq_cache, s.seqcycle AS seq_cycle
       FROM pg_attribute a
       JOIN pg_class c ON c.oid = a.attrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_type t ON t.oid = a.atttypid
       LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
       LEFT JOIN pg_depend sd ON a.attidentity <> '' AND sd.refclassid = 'pg_class'::regclass
             AND sd.refobjid = a.attrelid AND sd.refobjsubid = a.attnum
             AND sd.classid = 'pg_class'::regclass AND sd.deptype = 'i'
       LEFT JOIN pg_sequence s ON s.seqrelid = sd.objid
      WHERE a.attrelid >= ${USER_OID} AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
        AND ${userSchema("n")} AND ${notExtensionMember("pg_class", "c.oid")}`,
    [ctx.excluded],
  );
  return rows.map((r) => {
    const id = columnId(r.schema, r.table, r.name);
    ctx.ids.add("pg_class", r.relid, r.attnum, id);
    if (r.attrdef) ctx.ids.addAlias("pg_attrdef", r.attrdef, 0, id);
    const generated = r.generated === "" ? null : r.expr;
    const column: ColumnObject = {
      kind: "column",
      id,
      deps: [relationId("r", r.schema, r.table)],
      schema: r.schema,
      table: r.table,
      name: r.name,
      position: r.attnum,
      type: r.type,
      notNull: r.not_null,
      default: r.generated === "" ? r.expr : null,
      identity: r.identity === "a" ? "always" : r.identity === "d" ? "by-default" : null,
      generated,
      collation: r.collation,
      inherited: !r.is_local,
    };
    if (r.storage !== null) column.storage = STORAGE[r.storage];
    if (r.stattarget !== null) column.statisticsTarget = r.stattarget;
    if (r.generated !== "") column.generatedKind = r.generated === "v" ? "virtual" : "stored";
    if (column.identity && r.seq_start !== null) {
      column.identityOptions = {
        start: r.seq_start,
        increment: r.seq_increment as string,
        min: r.seq_min as string,
        max: r.seq_max as string,
        cache: r.seq_cache as string,
        cycle: r.seq_cycle === true,
      };
    }
    return column;
  });
}
