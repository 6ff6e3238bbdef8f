import type pg from "pg";
import { qualified, schemaId } from "../catalog/ids.ts";
import type { TableObject } from "../catalog/snapshot.ts";
import { type IntrospectContext, notExtensionMember, USER_OID, userSchema } from "./context.ts";
import { relationId } from "./ids.ts";

interface Row {
  oid: number;
  reltype: number;
  typarray: number | null;
  schema: string;
  name: string;
  persistence: "p" | "u";
  rls: boolean;
  rls_forced: boolean;
  options: string[] | null;
  partkey: string | null;
  bound: string | null;
  parents: [string, string][];
  replident: "d" | "f" | "n" | "i";
  replindex: string | null;
}

const REPLICA_IDENTITY = { f: "full", n: "nothing", i: "index" } as const;

/** Ordinary and partitioned tables (foreign tables are not merge objects yet). */
export async function readTables(
  client: pg.ClientBase,
  ctx: IntrospectContext,
): Promise<TableObject[]> {
  const { rows } = await client.query<Row>(
    `SELECT c.oid, c.reltype, rt.typarray, n.nspname AS schema, c.relname AS name,
            c.relpersistence AS persistence, c.relrowsecurity AS rls, c.relforcerowsecurity AS rls_forced,
            c.reloptions AS options, c.relreplident AS replident,
            (SELECT ri.relname FROM pg_index i JOIN pg_class ri ON ri.oid = i.indexrelid
              WHERE i.indrelid = c.oid AND i.indisreplident) AS replindex,
            CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partkey,
            CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END AS bound,
            (SELECT coalesce(json_agg(json_build_array(pn.nspname, pc.relname) ORDER BY i.inhseqno), '[]')
               FROM pg_inherits i
               JOIN pg_class pc ON pc.oid = i.inhparent
               JOIN pg_namespace pn ON pn.oid = pc.relnamespace
              WHERE i.inhrelid = c.oid) AS parents
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_type rt ON rt.oid = c.reltype
      WHERE c.oid >= ${USER_OID} AND c.relkind IN ('r', 'p') AND ${userSchema("n")} AND ${notExtensionMember("pg_class", "c.oid")}`,
    [ctx.excluded],
  );
  return rows.map((r) => {
    const id = relationId("r", r.schema, r.name);
    ctx.ids.add("pg_class", r.oid, 0, id);
    // A column of the table's row type (or an array of it) depends on the table.
    ctx.ids.addAlias("pg_type", r.reltype, 0, id);
    if (r.typarray) ctx.ids.addAlias("pg_type", r.typarray, 0, id);
    const isPartition = r.bound !== null;
    const parents = r.parents.map(([s, t]) => qualified(s, t));
    const table: TableObject = {
      kind: "table",
      id,
      deps: [schemaId(r.schema), ...r.parents.map(([s, t]) => relationId("r", s, t))],
      schema: r.schema,
      name: r.name,
      persistence: r.persistence,
      partitionBy: r.partkey,
      partitionOf: isPartition ? { parent: parents[0], bound: r.bound as string } : null,
      inherits: isPartition ? [] : parents,
      rlsEnabled: r.rls,
      rlsForced: r.rls_forced,
      options: [...(r.options ?? [])].sort(),
    };
    // Optional, so snapshots stored before it was modelled still compare equal.
    if (r.replident !== "d") table.replicaIdentity = REPLICA_IDENTITY[r.replident];
    if (r.replident === "i" && r.replindex !== null) table.replicaIdentityIndex = r.replindex;
    return table;
  });
}
