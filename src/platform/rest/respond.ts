import type pg from "pg";
import { RestError } from "./errors.ts";
import { rangeError } from "./parse-headers.ts";

/** What a handler answers; routes.ts turns it into the HTTP reply. */
export interface RestReply {
  status: number;
  headers: Record<string, string>;
  /** JSON text (built by Postgres), or absent for no body. */
  body?: string;
}

export const JSON_TYPE = "application/json; charset=utf-8";
export const OBJECT_TYPE = "application/vnd.pgrst.object+json; charset=utf-8";

/** PGRST116: vnd.pgrst.object+json asked for, and not exactly one row came back. */
export function notSingle(rows: number): RestError {
  return new RestError({
    status: 406,
    code: "PGRST116",
    message: "Cannot coerce the result to a single JSON object",
    details: `The result contains ${rows} rows`,
  });
}

/** `Content-Range: 0-9/100` (`*` total when not counted, `*` range when empty). */
export function contentRange(offset: number, rows: number, total: number | null): string {
  const range = rows > 0 ? `${offset}-${offset + rows - 1}` : "*";
  return `${range}/${total ?? "*"}`;
}

/** 206 when a counted result is only part of the total; 416 when the offset is past it. */
export function readStatus(offset: number, rows: number, total: number | null): number {
  if (total === null) return 200;
  if (offset > 0 && offset >= total && total > 0)
    throw rangeError(`An offset of ${offset} was requested, but there are only ${total} rows.`);
  return rows < total ? 206 : 200;
}

/** The planner's row estimate of a query (Prefer: count=planned), as PostgREST reads it. */
export async function plannedCount(
  c: pg.ClientBase,
  sql: string,
  values: unknown[],
): Promise<number> {
  const { rows } = await c.query(`EXPLAIN (FORMAT JSON) ${sql}`, values);
  const plan = rows[0]["QUERY PLAN"];
  return Number((typeof plan === "string" ? JSON.parse(plan) : plan)[0].Plan["Plan Rows"]);
}

/** Thrown inside the transaction to roll it back (Prefer: tx=rollback) yet answer normally. */
export class RollbackWith extends Error {
  constructor(readonly reply: RestReply) {
    super("rolled back on request");
  }
}
