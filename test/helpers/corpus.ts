import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { quoteIdent } from "../../src/core/names.ts";

/** The migra fixture corpus (see its SOURCE.md); BOUGH_CORPUS_DIR points elsewhere. */
export const CORPUS_DIR = process.env.BOUGH_CORPUS_DIR ?? "/work/shared/corpus/migra";

/** Case names of the corpus (folders holding a.sql and b.sql), sorted. */
export function corpusCases(): string[] {
  if (!existsSync(CORPUS_DIR)) return [];
  return readdirSync(CORPUS_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(CORPUS_DIR, d.name, "a.sql")))
    .map((d) => d.name)
    .sort();
}

/** Path of one fixture file, e.g. corpusFile("everything", "a.sql"). */
export const corpusFile = (kase: string, file: string) => join(CORPUS_DIR, kase, file);

/** Runs a plain multi-statement SQL file on the database at `url`. */
export async function loadSql(url: string, file: string): Promise<void> {
  await withClient(url, (c) => c.query(readFileSync(file, "utf8")));
}

/** Roles the fixtures grant to or create policies for (cluster-wide, so once per cluster). */
export async function ensureCorpusRoles(url: string): Promise<void> {
  await withClient(url, async (c) => {
    for (const role of ["schemainspect_test_role", "postgres"]) {
      const found = await c.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [role]);
      if (found.rowCount === 0) await c.query(`CREATE ROLE ${quoteIdent(role)}`);
    }
  });
}

/** Creates an empty database next to `url`'s and returns its URL. */
export async function createDatabase(url: string, name: string): Promise<string> {
  await withClient(url, (c) => c.query(`CREATE DATABASE ${quoteIdent(name)}`));
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(name)}`;
  return u.toString();
}

export async function withClient<T>(url: string, work: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
