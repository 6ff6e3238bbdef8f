import type pg from "pg";
import { ensureBookkeeping } from "../../merge/bookkeeping.ts";

/**
 * Edge functions' state, inside the branch's own database: a function's source is config
 * (merged into the parent as upsert-by-name, so a function deployed on a branch reaches the
 * parent only by merge, and a clone or a reset carries it with no redeploy); invocation
 * logs are data, never merged. Idempotent.
 */
export const FUNCTIONS_SCHEMA_SQL = `
CREATE SCHEMA IF NOT EXISTS functions;
CREATE TABLE IF NOT EXISTS functions.functions (
  name text PRIMARY KEY,
  entrypoint text NOT NULL,
  files jsonb NOT NULL,
  verify_jwt boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS functions.invocations (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL,
  started_at timestamptz NOT NULL,
  duration_ms integer NOT NULL,
  status integer NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('ok', 'error', 'timeout', 'memory', 'crash')),
  stdout text NOT NULL DEFAULT '',
  stderr text NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS invocations_name_started ON functions.invocations (name, started_at DESC);
-- Internal to the platform: the request roles never see function source or logs.
REVOKE ALL ON SCHEMA functions FROM PUBLIC;

INSERT INTO bough.table_policies (table_name, policy, key_columns, excluded_columns) VALUES
  ('functions.functions', 'upsert', '{name}', '{}'),
  ('functions.invocations', 'ignore', '{}', '{}')
ON CONFLICT (table_name) DO NOTHING;
`;

/** Installs the functions schema (and bough's bookkeeping it registers its tables in). */
export async function ensureFunctionsSchema(client: pg.ClientBase): Promise<void> {
  await ensureBookkeeping(client);
  await client.query(FUNCTIONS_SCHEMA_SQL);
}
