import type pg from "pg";
import type { DbObject } from "../catalog/snapshot.ts";
import type { IntrospectContext } from "./context.ts";

interface Row {
  catalog: string;
  oid: number;
  owner: string;
}

/**
 * Owners other than the bootstrap superuser (oid 10, who runs every merge), as catalog
 * addresses: one query for every kind that has an owner. Indexes follow their table and
 * table row types their table, so neither is listed; a sequence OWNED BY a column is
 * listed and follows its table when rendered (render/sql/owner.ts).
 */
export async function readOwners(client: pg.ClientBase): Promise<Row[]> {
  const { rows } = await client.query<Row>(
    `SELECT 'pg_namespace' AS catalog, oid, pg_get_userbyid(nspowner)::text AS owner FROM pg_namespace WHERE nspowner <> 10
     UNION ALL SELECT 'pg_class', oid, pg_get_userbyid(relowner)::text FROM pg_class
      WHERE relowner <> 10 AND relkind IN ('r', 'p', 'v', 'm', 'S')
     UNION ALL SELECT 'pg_proc', oid, pg_get_userbyid(proowner)::text FROM pg_proc WHERE proowner <> 10
     UNION ALL SELECT 'pg_type', oid, pg_get_userbyid(typowner)::text FROM pg_type WHERE typowner <> 10
     UNION ALL SELECT 'pg_collation', oid, pg_get_userbyid(collowner)::text FROM pg_collation WHERE collowner <> 10
     UNION ALL SELECT 'pg_event_trigger', oid, pg_get_userbyid(evtowner)::text FROM pg_event_trigger WHERE evtowner <> 10
     UNION ALL SELECT 'pg_publication', oid, pg_get_userbyid(pubowner)::text FROM pg_publication WHERE pubowner <> 10
     UNION ALL SELECT 'pg_statistic_ext', oid, pg_get_userbyid(stxowner)::text FROM pg_statistic_ext WHERE stxowner <> 10`,
  );
  return rows;
}

/** Sets `owner` on the objects the registry knows at those addresses (their own entries only). */
export function addOwners(ctx: IntrospectContext, rows: Row[], byId: Map<string, DbObject>): void {
  for (const r of rows) {
    const id = ctx.ids.target(r.catalog, r.oid);
    const o = id === undefined ? undefined : byId.get(id);
    if (o) o.owner = r.owner;
  }
}
