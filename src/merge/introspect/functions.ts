import type pg from "pg";
import { functionId, schemaId } from "../catalog/ids.ts";
import type { FunctionObject } from "../catalog/snapshot.ts";
import { readAggregateDefinitions } from "./aggregates.ts";
import {
  type IntrospectContext,
  notExtensionMember,
  notInternal,
  USER_OID,
  userSchema,
} from "./context.ts";

interface Row {
  oid: number;
  schema: string;
  name: string;
  kind: "f" | "p" | "a" | "w";
  identity_args: string;
  definition: string | null;
  returns: string | null;
}

/**
 * Functions, procedures, aggregates and window functions. pg_depend knows their argument
 * and result types (and, for SQL-standard bodies, what the body uses); other bodies are
 * opaque to Postgres, so the planner should create functions with check_function_bodies off.
 */
export async function readFunctions(
  client: pg.ClientBase,
  ctx: IntrospectContext,
): Promise<FunctionObject[]> {
  const { rows } = await client.query<Row>(
    `SELECT p.oid, n.nspname AS schema, p.proname AS name, p.prokind AS kind,
            pg_get_function_identity_arguments(p.oid) AS identity_args,
            CASE WHEN p.prokind <> 'a' THEN pg_get_functiondef(p.oid) END AS definition,
            pg_get_function_result(p.oid) AS returns
       FROM pg_proc p
       JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE p.oid >= ${USER_OID} AND ${userSchema("n")} AND ${notExtensionMember("pg_proc", "p.oid")}
        AND ${notInternal("pg_proc", "p.oid")}`,
    [ctx.excluded],
  );
  const aggregates = await readAggregateDefinitions(
    client,
    rows.filter((r) => r.kind === "a").map((r) => r.oid),
  );
  return rows.map((r) => {
    const id = functionId(r.schema, r.name, r.identity_args);
    ctx.ids.add("pg_proc", r.oid, 0, id);
    return {
      kind: "function",
      id,
      deps: [schemaId(r.schema)],
      schema: r.schema,
      name: r.name,
      identityArgs: r.identity_args,
      prokind: r.kind,
      definition: r.definition ?? aggregates.get(r.oid) ?? "",
      returns: r.returns,
    };
  });
}
