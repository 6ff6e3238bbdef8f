import type { IncomingHttpHeaders } from "node:http";
import type pg from "pg";
import type { ParsedQuery, Preferences } from "./ast.ts";
import { parseAccept, parsePrefer, parseRange, type Shape } from "./parse-headers.ts";
import { parseQuery } from "./parse-query.ts";
import {
  contentRange,
  JSON_TYPE,
  notSingle,
  OBJECT_TYPE,
  plannedCount,
  type RestReply,
  readStatus,
} from "./respond.ts";
import { type Relation, relationOf, type SchemaCache } from "./schema-cache.ts";
import { Params } from "./sql/params.ts";
import { readSql } from "./sql/read.ts";
import { deleteSql, insertSql, invalidBody, payloadRows, updateSql } from "./sql/write.ts";

/** One data API request, as the routes hand it over (schema already chosen). */
export interface RestRequest {
  method: "GET" | "HEAD" | "POST" | "PATCH" | "DELETE";
  schema: string;
  name: string;
  search: URLSearchParams;
  headers: IncomingHttpHeaders;
  body?: string;
}

/** Estimated counts are exact up to this many rows (planned beyond), as PostgREST with max-rows. */
const ESTIMATE_EXACT_BELOW = 1000;

/** The request body as JSON, or PGRST102. */
export function jsonBody(text: string | undefined): unknown {
  if (text === undefined || text.trim() === "") throw invalidBody("the request body is empty");
  try {
    return JSON.parse(text);
  } catch (err) {
    throw invalidBody((err as Error).message);
  }
}

/** GET/HEAD/POST/PATCH/DELETE on a table or view, inside the request's transaction. */
export async function tableRequest(
  c: pg.ClientBase,
  cache: SchemaCache,
  r: RestRequest,
): Promise<RestReply> {
  const rel = relationOf(cache, r.schema, r.name);
  const query = parseQuery(r.search);
  const shape = parseAccept(r.headers.accept);
  const prefer = parsePrefer(r.headers.prefer);
  if (r.method === "GET" || r.method === "HEAD")
    return read(c, { cache, rel, query, shape, prefer, r });
  return write(c, { cache, rel, query, shape, prefer, r });
}

interface Call {
  cache: SchemaCache;
  rel: Relation;
  query: ParsedQuery;
  shape: Shape;
  prefer: Preferences;
  r: RestRequest;
}

const contentType = (shape: Shape) => (shape.single ? OBJECT_TYPE : JSON_TYPE);

/** Runs a read built by readSql; counts as Prefer asks; answers with Content-Range. */
export async function runRead(
  c: pg.ClientBase,
  o: Call & { from?: string; p: Params; objectBody?: boolean },
): Promise<RestReply> {
  const range = parseRange(o.r.headers.range) ?? { offset: 0 };
  const exact = o.prefer.count === "exact";
  const single = o.shape.single || o.objectBody === true;
  const built = readSql({
    cache: o.cache,
    query: o.query,
    rel: o.rel,
    p: o.p,
    from: o.from,
    offset: range.offset,
    limit: range.limit,
    count: exact ? "exact" : undefined,
    single,
    stripNulls: o.shape.stripNulls,
  });
  const row = (await c.query(built.sql, o.p.values)).rows[0];
  const rows = Number(row.page_count);
  if (o.shape.single && rows !== 1) throw notSingle(rows);
  let total: number | null = exact ? Number(row.total) : null;
  if (o.prefer.count === "planned" || o.prefer.count === "estimated") {
    total = await plannedCount(c, built.estimate.sql, o.p.values.slice(0, built.estimate.params));
    if (o.prefer.count === "estimated" && total < ESTIMATE_EXACT_BELOW) {
      const n = await c.query(
        `SELECT count(*) AS n FROM (${built.estimate.sql}) _c`,
        o.p.values.slice(0, built.estimate.params),
      );
      total = Number(n.rows[0].n);
    }
  }
  const offset = (o.query.levels.get("")?.offset ?? 0) + range.offset;
  const status = readStatus(offset, rows, total);
  const headers = {
    "content-type": contentType(o.shape),
    "content-range": contentRange(offset, rows, total),
  };
  return { status, headers, body: o.r.method === "HEAD" ? undefined : (row.body ?? "null") };
}

function read(c: pg.ClientBase, o: Call): Promise<RestReply> {
  return runRead(c, { ...o, p: new Params() });
}

/** INSERT/UPSERT, UPDATE or DELETE, then the representation of the rows it touched. */
async function write(c: pg.ClientBase, o: Call): Promise<RestReply> {
  const { rel, query, prefer, r } = o;
  const p = new Params();
  let mutation: string | null;
  if (r.method === "POST") {
    const rows = payloadRows(jsonBody(r.body));
    mutation = rows.length === 0 ? null : insertSql({ rel, rows, query, prefer, p });
  } else if (r.method === "PATCH") {
    const body = jsonBody(r.body);
    if (Array.isArray(body)) throw invalidBody("PATCH takes one JSON object, not an array");
    const row = payloadRows(body);
    mutation =
      Object.keys(row[0]).length === 0 && !query.columns
        ? null
        : updateSql({ rel, row: row[0], query, p });
  } else mutation = deleteSql({ rel, query, p });
  const representation = prefer.return === "representation";
  const headersOnly = prefer.return === "headers-only" && rel.pk.length > 0;
  const select = representation
    ? query.select
    : headersOnly
      ? rel.pk.map((name) => ({ kind: "column" as const, field: { name, json: [] } }))
      : [];
  let row: { body: string | null; page_count: string } = { body: "[]", page_count: "0" };
  if (mutation) {
    const built = readSql({
      cache: o.cache,
      query: { ...query, select },
      rel,
      p,
      from: "pgrst_source",
      rootConditions: false,
      single: o.shape.single,
      stripNulls: o.shape.stripNulls,
    });
    row = (await c.query(`WITH pgrst_source AS (${mutation}) ${built.sql}`, p.values)).rows[0];
  }
  const rows = Number(row.page_count);
  if (o.shape.single && rows !== 1) throw notSingle(rows);
  const total = prefer.count ? rows : null;
  const headers: Record<string, string> = {
    "content-range": r.method === "POST" ? `*/${total ?? "*"}` : contentRange(0, rows, total),
  };
  if (headersOnly && r.method === "POST" && rows === 1)
    headers.location = locationOf(r.name, rel.pk, row.body ?? "null", o.shape.single);
  const created = r.method === "POST";
  if (!representation) return { status: created ? 201 : 204, headers };
  headers["content-type"] = contentType(o.shape);
  return { status: created ? 201 : 200, headers, body: row.body ?? "null" };
}

/** `Location: /table?pk=eq.value` of the one row an insert created (Prefer: return=headers-only). */
function locationOf(name: string, pk: string[], body: string, single: boolean): string {
  const parsed = JSON.parse(body);
  const row = (single ? parsed : parsed[0]) as Record<string, unknown>;
  const q = new URLSearchParams(pk.map((k) => [k, `eq.${String(row[k])}`]));
  return `/${encodeURIComponent(name)}?${q.toString()}`;
}
