import type pg from "pg";
import { schemaId } from "../catalog/ids.ts";
import type { ViewObject } from "../catalog/snapshot.ts";
import { type IntrospectContext, notExtensionMember, USER_OID, userSchema } from "./context.ts";
import { relationId } from "./ids.ts";

interface Row {
  oid: number;
  rule: number | null;
  reltype: number;
  schema: string;
  name: string;
  relkind: "v" | "m";
  definition: string;
  options: string[] | null;
}

/**
 * Views and materialized views. What a view reads is recorded in pg_depend against its
 * _RETURN rewrite rule (down to the column), so the rule is registered as the view.
 */
export async function readViews(
  client: pg.ClientBase,
  ctx: IntrospectContext,
): Promise<ViewObject[]> {
  const { rows } = await client.query<Row>(
    `SELECT c.oid, r.oid AS rule, c.reltype, n.nspname AS schema, c.relname AS name, c.relkind,
            pg_get_viewdef(c.oid, true) AS definition, c.reloptions AS options
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_rewrite r ON r.ev_class = c.oid AND r.rulename = '_RETURN'
      WHERE c.oid >= ${USER_OID} AND c.relkind IN ('v', 'm') AND ${userSchema("n")} AND ${notExtensionMember("pg_class", "c.oid")}`,
    [ctx.excluded],
  );
  return rows.map((r) => {
    const id = relationId(r.relkind, r.schema, r.name);
    ctx.ids.add("pg_class", r.oid, 0, id);
    if (r.rule) ctx.ids.addAlias("pg_rewrite", r.rule, 0, id);
    ctx.ids.addAlias("pg_type", r.reltype, 0, id);
    return {
      kind: r.relkind === "v" ? "view" : "matview",
      id,
      deps: [schemaId(r.schema)],
      schema: r.schema,
      name: r.name,
      definition: r.definition,
      options: [...(r.options ?? [])].sort(),
    };
  });
}
