import type pg from "pg";
import { memberId } from "../catalog/ids.ts";
import type { RuleObject } from "../catalog/snapshot.ts";
import { type IntrospectContext, notExtensionMember, USER_OID, userSchema } from "./context.ts";
import { relationId } from "./ids.ts";

interface Row {
  oid: number;
  schema: string;
  table: string;
  relkind: string;
  name: string;
  definition: string;
  enabled: RuleObject["enabled"];
}

/**
 * Rewrite rules of tables and views. A view's own _RETURN rule is the view (views.ts
 * registers it as an alias); every other rule is an object, keyed by its relation. What
 * its actions read is in pg_depend against the rule, so a column it uses cannot change
 * type under it (the plan rebuilds it around the change).
 */
export async function readRules(
  client: pg.ClientBase,
  ctx: IntrospectContext,
): Promise<RuleObject[]> {
  const { rows } = await client.query<Row>(
    `SELECT r.oid, n.nspname AS schema, c.relname AS table, c.relkind, r.rulename AS name,
            pg_get_ruledef(r.oid, true) AS definition, r.ev_enabled AS enabled
       FROM pg_rewrite r
       JOIN pg_class c ON c.oid = r.ev_class
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE r.oid >= ${USER_OID} AND r.rulename <> '_RETURN' AND c.relkind IN ('r', 'p', 'v')
        AND ${userSchema("n")} AND ${notExtensionMember("pg_class", "c.oid")}`,
    [ctx.excluded],
  );
  return rows.map((r) => {
    const id = memberId("rule", r.schema, r.table, r.name);
    ctx.ids.add("pg_rewrite", r.oid, 0, id);
    return {
      kind: "rule",
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
