import type pg from "pg";

/** A deployed function as stored: `files` maps relative paths to source text. */
export interface FunctionRow {
  name: string;
  entrypoint: string;
  files: Record<string, string>;
  verifyJwt: boolean;
  /** Changes whenever the code does (redeploy, reset, merge): a warm process of another version is replaced. */
  version: string;
  createdAt: string;
  updatedAt: string;
}

/** What `bough functions list --json` prints per function. */
export interface FunctionSummary {
  name: string;
  entrypoint: string;
  verifyJwt: boolean;
  files: string[];
  /** Bytes of source, all files together. */
  size: number;
  createdAt: string;
  updatedAt: string;
}

export type Outcome = "ok" | "error" | "timeout" | "memory" | "crash";

export interface Invocation {
  name: string;
  startedAt: Date;
  durationMs: number;
  status: number;
  outcome: Outcome;
  stdout: string;
  stderr: string;
}

const COLUMNS = `name, entrypoint, files, verify_jwt, md5(entrypoint || files::text) AS version,
  to_json(created_at) #>> '{}' AS created_at, to_json(updated_at) #>> '{}' AS updated_at`;

interface Raw {
  name: string;
  entrypoint: string;
  files: Record<string, string>;
  verify_jwt: boolean;
  version: string;
  created_at: string;
  updated_at: string;
}

const toRow = (r: Raw): FunctionRow => ({
  name: r.name,
  entrypoint: r.entrypoint,
  files: r.files,
  verifyJwt: r.verify_jwt,
  version: r.version,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export async function getFunction(c: pg.ClientBase, name: string): Promise<FunctionRow | null> {
  const r = await c.query<Raw>(`SELECT ${COLUMNS} FROM functions.functions WHERE name = $1`, [
    name,
  ]);
  return r.rows[0] ? toRow(r.rows[0]) : null;
}

export async function listFunctions(c: pg.ClientBase): Promise<FunctionSummary[]> {
  const r = await c.query<Raw>(`SELECT ${COLUMNS} FROM functions.functions ORDER BY name`);
  return r.rows.map(toRow).map((f) => ({
    name: f.name,
    entrypoint: f.entrypoint,
    verifyJwt: f.verifyJwt,
    files: Object.keys(f.files).sort(),
    size: Object.values(f.files).reduce((n, s) => n + Buffer.byteLength(s), 0),
    createdAt: f.createdAt,
    updatedAt: f.updatedAt,
  }));
}

export async function upsertFunction(
  c: pg.ClientBase,
  f: { name: string; entrypoint: string; files: Record<string, string>; verifyJwt: boolean },
): Promise<{ created: boolean }> {
  const r = await c.query<{ created: boolean }>(
    `INSERT INTO functions.functions (name, entrypoint, files, verify_jwt) VALUES ($1, $2, $3, $4)
     ON CONFLICT (name) DO UPDATE SET entrypoint = EXCLUDED.entrypoint, files = EXCLUDED.files,
       verify_jwt = EXCLUDED.verify_jwt, updated_at = clock_timestamp()
     RETURNING (xmax = 0) AS created`,
    [f.name, f.entrypoint, JSON.stringify(f.files), f.verifyJwt],
  );
  return r.rows[0];
}

export async function deleteFunction(c: pg.ClientBase, name: string): Promise<boolean> {
  const r = await c.query("DELETE FROM functions.functions WHERE name = $1", [name]);
  return (r.rowCount ?? 0) > 0;
}

export async function recordInvocation(c: pg.ClientBase, i: Invocation): Promise<void> {
  await c.query(
    `INSERT INTO functions.invocations (name, started_at, duration_ms, status, outcome, stdout, stderr)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [i.name, i.startedAt, i.durationMs, i.status, i.outcome, i.stdout, i.stderr],
  );
}

/** Newest first. */
export async function listInvocations(
  c: pg.ClientBase,
  name: string,
  limit: number,
): Promise<(Omit<Invocation, "startedAt"> & { id: number; startedAt: string })[]> {
  const r = await c.query<{
    id: string;
    name: string;
    started_at: string;
    duration_ms: number;
    status: number;
    outcome: Outcome;
    stdout: string;
    stderr: string;
  }>(
    `SELECT id, name, to_json(started_at) #>> '{}' AS started_at, duration_ms, status, outcome, stdout, stderr
       FROM functions.invocations WHERE name = $1 ORDER BY started_at DESC, id DESC LIMIT $2`,
    [name, limit],
  );
  return r.rows.map((x) => ({
    id: Number(x.id),
    name: x.name,
    startedAt: x.started_at,
    durationMs: x.duration_ms,
    status: x.status,
    outcome: x.outcome,
    stdout: x.stdout,
    stderr: x.stderr,
  }));
}
