import type pg from "pg";
import type { IndexObject } from "../catalog/snapshot.ts";
import { type IntrospectContext, notExtensionMember, USER_OID, userSchema } from "./context.ts";
import { relationId } from "./ids.ts";

interface Row {
  oid: number;
  schema: string;
  name: string;
  table: string;
  relkind: string;
  quoted: string;
  definition: string;
}

/**
 * Indexes of tables and materialized views. Left out: indexes behind a primary key,
 * unique or exclusion constraint (the constraint is the object), and partitions'
 * indexes attached to a partitioned index (Postgres creates them with the parent's).
 */
export async function readIndexes(
  client: pg.ClientBase,
  ctx: IntrospectContext,
): Promise<IndexObject[]> {
  const { rows } = await client.query<Row>(
    `SELECT i.indexrelid AS oid, n.nspname AS schema, ic.relname AS name, c.relname AS table,
            c.relkind, quote_ident(ic.relname) AS quoted, pg_get_indexdef(i.indexrelid) AS definition
       FROM pg_index i
       JOIN pg_class ic ON ic.oid = i.indexrelid
       JOIN pg_class c ON c.oid = i.indrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE i.indrelid >= ${USER_OID} AND c.relkind IN ('r', 'p', 'm') AND NOT ic.relispartition
        AND ${userSchema("n")} AND ${notExtensionMember("pg_class", "c.oid")}
        AND NOT EXISTS (SELECT 1 FROM pg_constraint co
                         WHERE co.conindid = i.indexrelid AND co.conrelid = i.indrelid
                           AND co.contype IN ('p', 'u', 'x'))`,
    [ctx.excluded],
  );
  return rows.map((r) => {
    const id = relationId("i", r.schema, r.name);
    ctx.ids.add("pg_class", r.oid, 0, id);
    return {
      kind: "index",
      id,
      deps: [relationId(r.relkind, r.schema, r.table)],
      schema: r.schema,
      table: r.table,
      name: r.name,
      definition: r.relkind === "p" ? cascading(r.definition, r.quoted) : r.definition,
    };
  });
}

/**
 * pg_get_indexdef writes "ON ONLY" for a partitioned table, which run as is makes an
 * invalid index that leaves every partition unindexed. The partitions' indexes are not
 * listed because the parent's creates them, so the definition is the cascading form.
 */
function cascading(definition: string, quotedName: string): string {
  return definition.replace(` ${quotedName} ON ONLY `, ` ${quotedName} ON `);
}
