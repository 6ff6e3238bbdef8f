import type pg from "pg";
import { qualified, schemaId, schemaObjectId } from "../catalog/ids.ts";
import type { StatisticsObject } from "../catalog/snapshot.ts";
import { type IntrospectContext, notExtensionMember, USER_OID, userSchema } from "./context.ts";
import { relationId } from "./ids.ts";

interface Row {
  oid: number;
  schema: string;
  name: string;
  table_schema: string;
  table: string;
  relkind: string;
  definition: string;
  target: number | null;
}

/**
 * Extended statistics on tables and materialized views (those on foreign tables go with
 * them, unmodelled). Their columns are auto dependencies in pg_depend. The statistics
 * target is -1 for the default up to PG 16 and null from PG 17: both read as absent.
 */
export async function readStatistics(
  client: pg.ClientBase,
  ctx: IntrospectContext,
): Promise<StatisticsObject[]> {
  const { rows } = await client.query<Row>(
    `SELECT s.oid, n.nspname AS schema, s.stxname AS name, tn.nspname AS table_schema,
            c.relname AS table, c.relkind, pg_get_statisticsobjdef(s.oid) AS definition,
            nullif(s.stxstattarget, -1)::int AS target
       FROM pg_statistic_ext s
       JOIN pg_namespace n ON n.oid = s.stxnamespace
       JOIN pg_class c ON c.oid = s.stxrelid
       JOIN pg_namespace tn ON tn.oid = c.relnamespace
      WHERE s.oid >= ${USER_OID} AND c.relkind IN ('r', 'p', 'm') AND ${userSchema("n")}
        AND ${notExtensionMember("pg_statistic_ext", "s.oid")}`,
    [ctx.excluded],
  );
  return rows.map((r) => {
    const id = schemaObjectId("statistics", r.schema, r.name);
    ctx.ids.add("pg_statistic_ext", r.oid, 0, id);
    return {
      kind: "statistics",
      id,
      deps: [schemaId(r.schema), relationId(r.relkind, r.table_schema, r.table)],
      schema: r.schema,
      name: r.name,
      relation: qualified(r.table_schema, r.table),
      definition: r.definition,
      ...(r.target === null ? {} : { statisticsTarget: r.target }),
    };
  });
}
