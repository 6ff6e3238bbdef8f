import type pg from "pg";
import { memberId, qualified } from "../catalog/ids.ts";
import type { ConstraintObject } from "../catalog/snapshot.ts";
import {
  type IntrospectContext,
  notExtensionMember,
  notPartitionFkClone,
  USER_OID,
  userSchema,
} from "./context.ts";
import { relationId } from "./ids.ts";

interface Row {
  oid: number;
  index: number;
  schema: string;
  table: string;
  name: string;
  type: "p" | "u" | "c" | "f" | "x";
  definition: string;
  is_local: boolean;
  ref_schema: string | null;
  ref_table: string | null;
}

/**
 * Table constraints. Left out: NOT NULL constraints (PG 18 lists them as contype 'n';
 * column.notNull already says it, and their generated names differ between PG versions
 * and between ways of writing the same DDL), constraint triggers ('t', listed as
 * triggers), and the clones Postgres makes on the referencing table for each partition
 * of a referenced partitioned table (same table as their parent, implied by it).
 * Clones on partitions (conislocal false) are listed with inherited = true.
 */
export async function readConstraints(
  client: pg.ClientBase,
  ctx: IntrospectContext,
): Promise<ConstraintObject[]> {
  const { rows } = await client.query<Row>(
    `SELECT co.oid, co.conindid AS index, n.nspname AS schema, c.relname AS table, co.conname AS name,
            co.contype AS type, pg_get_constraintdef(co.oid, true) AS definition, co.conislocal AS is_local,
            rn.nspname AS ref_schema, rc.relname AS ref_table
       FROM pg_constraint co
       JOIN pg_class c ON c.oid = co.conrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_class rc ON rc.oid = co.confrelid AND co.contype = 'f'
       LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
      WHERE co.conrelid >= ${USER_OID} AND co.contype IN ('p', 'u', 'c', 'f', 'x') AND c.relkind IN ('r', 'p')
        AND ${userSchema("n")} AND ${notExtensionMember("pg_class", "c.oid")}
        AND ${notPartitionFkClone("co")}`,
    [ctx.excluded],
  );
  return rows.map((r) => {
    const id = memberId("constraint", r.schema, r.table, r.name);
    ctx.ids.add("pg_constraint", r.oid, 0, id);
    // The index behind a key stands for the constraint: a foreign key depends on that index.
    if (r.type !== "f" && r.type !== "c" && r.index) ctx.ids.addAlias("pg_class", r.index, 0, id);
    const references =
      r.ref_schema !== null && r.ref_table !== null ? qualified(r.ref_schema, r.ref_table) : null;
    const deps = [relationId("r", r.schema, r.table)];
    if (r.ref_schema !== null && r.ref_table !== null)
      deps.push(relationId("r", r.ref_schema, r.ref_table));
    return {
      kind: "constraint",
      id,
      deps,
      schema: r.schema,
      table: r.table,
      name: r.name,
      type: r.type,
      definition: r.definition,
      references,
      inherited: !r.is_local,
    };
  });
}
