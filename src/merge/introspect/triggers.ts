import type pg from "pg";
import { memberId } from "../catalog/ids.ts";
import type { TriggerObject } from "../catalog/snapshot.ts";
import { type IntrospectContext, notExtensionMember, USER_OID, userSchema } from "./context.ts";
import { relationId } from "./ids.ts";

interface Row {
  oid: number;
  schema: string;
  table: string;
  relkind: string;
  name: string;
  definition: string;
  enabled: "O" | "D" | "R" | "A";
}

/**
 * User triggers on tables and views (INSTEAD OF). Left out: internal triggers (foreign
 * keys) and the clones on partitions of a partitioned table's trigger (tgparentid, PG 13+),
 * which Postgres creates with the parent's.
 */
export async function readTriggers(
  client: pg.ClientBase,
  ctx: IntrospectContext,
): Promise<TriggerObject[]> {
  const { rows } = await client.query<Row>(
    `SELECT t.oid, n.nspname AS schema, c.relname AS table, c.relkind, t.tgname AS name,
            pg_get_triggerdef(t.oid, true) AS definition, t.tgenabled AS enabled
       FROM pg_trigger t
       JOIN pg_class c ON c.oid = t.tgrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE t.tgrelid >= ${USER_OID} AND NOT t.tgisinternal AND t.tgparentid = 0 AND c.relkind IN ('r', 'p', 'v', 'm')
        AND ${userSchema("n")} AND ${notExtensionMember("pg_class", "c.oid")}`,
    [ctx.excluded],
  );
  return rows.map((r) => {
    const id = memberId("trigger", r.schema, r.table, r.name);
    ctx.ids.add("pg_trigger", r.oid, 0, id);
    return {
      kind: "trigger",
      id,
      deps: [relationId(r.relkind, r.schema, r.table)],
      schema: r.schema,
      table: r.table,
      name: r.name,
      definition: r.definition,
      enabled: r.enabled,
    };
  });
}
