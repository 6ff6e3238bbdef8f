import type pg from "pg";
import { qualified, schemaId } from "../catalog/ids.ts";
import type { SequenceObject } from "../catalog/snapshot.ts";
import { type IntrospectContext, notExtensionMember, USER_OID, userSchema } from "./context.ts";
import { relationId } from "./ids.ts";

interface Row {
  oid: number;
  schema: string;
  name: string;
  data_type: string;
  start: string;
  increment: string;
  min: string;
  max: string;
  cache: string;
  cycle: boolean;
  owned_by: [string, string, string] | null;
}

/**
 * Sequences, except identity sequences (pg_depend 'i' on their column: they are part of
 * the column). OWNED BY comes from the 'a' dependency on a column; it is a field, not a
 * dep, because the owning column's default usually needs the sequence first.
 */
export async function readSequences(
  client: pg.ClientBase,
  ctx: IntrospectContext,
): Promise<SequenceObject[]> {
  const { rows } = await client.query<Row>(
    `SELECT c.oid, n.nspname AS schema, c.relname AS name, format_type(s.seqtypid, NULL) AS data_type,
            s.seqstart::text AS start, s.seqincrement::text AS increment, s.seqmin::text AS min,
            s.seqmax::text AS max, s.seqcache::text AS cache, s.seqcycle AS cycle,
            CASE WHEN oa.attname IS NOT NULL THEN array[own.nspname, oc.relname, oa.attname]::text[] END AS owned_by
       FROM pg_sequence s
       JOIN pg_class c ON c.oid = s.seqrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_depend od ON od.classid = 'pg_class'::regclass AND od.objid = c.oid AND od.deptype = 'a'
             AND od.refclassid = 'pg_class'::regclass AND od.refobjsubid > 0
       LEFT JOIN pg_class oc ON oc.oid = od.refobjid
       LEFT JOIN pg_namespace own ON own.oid = oc.relnamespace
       LEFT JOIN pg_attribute oa ON oa.attrelid = od.refobjid AND oa.attnum = od.refobjsubid
      WHERE s.seqrelid >= ${USER_OID} AND ${userSchema("n")} AND ${notExtensionMember("pg_class", "c.oid")}
        AND NOT EXISTS (SELECT 1 FROM pg_depend i
                         WHERE i.classid = 'pg_class'::regclass AND i.objid = c.oid AND i.deptype = 'i')`,
    [ctx.excluded],
  );
  return rows.map((r) => {
    const id = relationId("S", r.schema, r.name);
    ctx.ids.add("pg_class", r.oid, 0, id);
    return {
      kind: "sequence",
      id,
      deps: [schemaId(r.schema)],
      schema: r.schema,
      name: r.name,
      dataType: r.data_type,
      start: r.start,
      increment: r.increment,
      min: r.min,
      max: r.max,
      cache: r.cache,
      cycle: r.cycle,
      ownedBy: r.owned_by ? qualified(...r.owned_by) : null,
    };
  });
}
