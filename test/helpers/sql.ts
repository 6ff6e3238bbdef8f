import pg from "pg";

/** Runs SQL on a fresh connection (tests only: each call connects and disconnects). */
export async function query(url: string, sql: string, params?: unknown[]): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(sql, params);
  } finally {
    await client.end();
  }
}

export async function rows<T = Record<string, unknown>>(
  url: string,
  sql: string,
  params?: unknown[],
): Promise<T[]> {
  return (await query(url, sql, params)).rows as T[];
}
