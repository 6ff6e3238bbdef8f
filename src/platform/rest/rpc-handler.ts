import type pg from "pg";
import { jsonBody, type RestRequest, runRead } from "./handlers.ts";
import { parseAccept, parsePrefer } from "./parse-headers.ts";
import { parseQuery } from "./parse-query.ts";
import { JSON_TYPE, type RestReply } from "./respond.ts";
import type { SchemaCache } from "./schema-cache.ts";
import { Params } from "./sql/params.ts";
import { callFrom, pickFunction, resultRelation } from "./sql/rpc.ts";
import { invalidBody } from "./sql/write.ts";

/** Query keys that are never function arguments on GET /rpc. */
const RESERVED = new Set([
  "select",
  "order",
  "limit",
  "offset",
  "or",
  "and",
  "not.or",
  "not.and",
  "columns",
  "on_conflict",
]);

/**
 * POST /rpc/fn (arguments in the JSON body) or GET/HEAD /rpc/fn (arguments in the query, the
 * transaction read-only so a function that writes fails with 25006 → 405, as PostgREST).
 * Functions returning rows take select=, filters, order and limits like a table.
 */
export async function rpcRequest(
  c: pg.ClientBase,
  cache: SchemaCache,
  r: RestRequest,
): Promise<RestReply> {
  const prefer = parsePrefer(r.headers.prefer);
  const shape = parseAccept(r.headers.accept);
  const readOnly = r.method === "GET" || r.method === "HEAD";
  let args: Record<string, unknown>;
  const argNames = new Set(
    (cache.functions.get(`${r.schema}.${r.name}`) ?? []).flatMap((f) => f.args.map((a) => a.name)),
  );
  if (readOnly) {
    args = {};
    for (const [k, v] of r.search) if (argNames.has(k) && !RESERVED.has(k)) args[k] = v;
  } else {
    const body = r.body === undefined || r.body.trim() === "" ? {} : jsonBody(r.body);
    if (typeof body !== "object" || body === null || (Array.isArray(body) && !prefer.singleObject))
      throw invalidBody("the arguments of a function call are a JSON object");
    args = body as Record<string, unknown>;
  }
  const keys = prefer.singleObject ? [] : Object.keys(args);
  const f = pickFunction(cache, {
    schema: r.schema,
    name: r.name,
    keys,
    singleObject: prefer.singleObject,
  });
  const query = parseQuery(r.search, { skip: readOnly ? new Set(Object.keys(args)) : undefined });
  if (readOnly) await c.query("SET TRANSACTION READ ONLY");
  const p = new Params();
  const from = callFrom(p, f, args, prefer.singleObject);
  const rel = resultRelation(cache, f);
  if (rel) {
    return runRead(c, { cache, rel, query, shape, prefer, r, from, p, objectBody: !f.returnsSet });
  }
  if (f.returns.kind === "void") {
    await c.query(`SELECT FROM ${from} _t`, p.values);
    return { status: 204, headers: {} };
  }
  const sql = f.returnsSet
    ? `SELECT coalesce(json_agg(_t.v), '[]')::text AS body FROM ${from} _t`
    : `SELECT to_json(_t.v)::text AS body FROM ${from} _t`;
  const row = (await c.query(sql, p.values)).rows[0];
  return {
    status: 200,
    headers: { "content-type": JSON_TYPE },
    body: r.method === "HEAD" ? undefined : (row?.body ?? "null"),
  };
}
