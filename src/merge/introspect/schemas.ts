import type pg from "pg";
import { schemaId } from "../catalog/ids.ts";
import type { SchemaObject } from "../catalog/snapshot.ts";
import { type IntrospectContext, notExtensionMember, userSchema } from "./context.ts";

interface Row {
  oid: number;
  name: string;
}

/** Every user schema, `public` included: it is an object like any other (it can be dropped, granted, commented). */
export async function readSchemas(
  client: pg.ClientBase,
  ctx: IntrospectContext,
): Promise<SchemaObject[]> {
  const { rows } = await client.query<Row>(
    `SELECT n.oid, n.nspname AS name
       FROM pg_namespace n
      WHERE ${userSchema("n")} AND ${notExtensionMember("pg_namespace", "n.oid")}`,
    [ctx.excluded],
  );
  return rows.map((r) => {
    const id = schemaId(r.name);
    ctx.ids.add("pg_namespace", r.oid, 0, id);
    return { kind: "schema", id, deps: [], name: r.name };
  });
}
