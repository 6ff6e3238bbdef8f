import type pg from "pg";
import { withClient } from "../../src/branches/sql.ts";

/** Runs SQL on a fresh connection (tests only: each call connects and disconnects). */
export function query(url: string, sql: string, params?: unknown[]): Promise<pg.QueryResult> {
  return withClient(url, (client) => client.query(sql, params));
}

export async function rows<T = Record<string, unknown>>(
  url: string,
  sql: string,
  params?: unknown[],
): Promise<T[]> {
  return (await query(url, sql, params)).rows as T[];
}
