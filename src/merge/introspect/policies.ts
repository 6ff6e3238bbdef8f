import type pg from "pg";
import { memberId, roleSpec, sortedRoles } from "../catalog/ids.ts";
import type { PolicyObject } from "../catalog/snapshot.ts";
import { type IntrospectContext, notExtensionMember, USER_OID, userSchema } from "./context.ts";
import { relationId } from "./ids.ts";

interface Row {
  oid: number;
  schema: string;
  table: string;
  name: string;
  permissive: boolean;
  cmd: string;
  /** Role names, null for PUBLIC (role 0). */
  roles: (string | null)[];
  using_expr: string | null;
  with_check: string | null;
}

const COMMANDS: Record<string, string> = {
  "*": "ALL",
  r: "SELECT",
  a: "INSERT",
  w: "UPDATE",
  d: "DELETE",
};

/** Row-level security policies; role 0 in polroles is the PUBLIC pseudo-role, never a role name. */
export async function readPolicies(
  client: pg.ClientBase,
  ctx: IntrospectContext,
): Promise<PolicyObject[]> {
  const { rows } = await client.query<Row>(
    `SELECT pol.oid, n.nspname AS schema, c.relname AS table, pol.polname AS name,
            pol.polpermissive AS permissive, pol.polcmd AS cmd,
            array(SELECT CASE WHEN r <> 0 THEN pg_get_userbyid(r)::text END
                    FROM unnest(pol.polroles) r) AS roles,
            pg_get_expr(pol.polqual, pol.polrelid) AS using_expr,
            pg_get_expr(pol.polwithcheck, pol.polrelid) AS with_check
       FROM pg_policy pol
       JOIN pg_class c ON c.oid = pol.polrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE pol.polrelid >= ${USER_OID} AND ${userSchema("n")} AND ${notExtensionMember("pg_class", "c.oid")}`,
    [ctx.excluded],
  );
  return rows.map((r) => {
    const id = memberId("policy", r.schema, r.table, r.name);
    ctx.ids.add("pg_policy", r.oid, 0, id);
    return {
      kind: "policy",
      id,
      deps: [relationId("r", r.schema, r.table)],
      schema: r.schema,
      table: r.table,
      name: r.name,
      permissive: r.permissive,
      command: COMMANDS[r.cmd] ?? r.cmd,
      roles: sortedRoles(r.roles.map(roleSpec)),
      using: r.using_expr,
      withCheck: r.with_check,
    };
  });
}
