import type pg from "pg";
import { ensureBookkeeping } from "../../merge/bookkeeping.ts";

/**
 * The schedules service's state, inside the branch's own database. schedules.jobs is
 * config, merged as upsert-by-name with its runtime and safety columns excluded (paused,
 * armed_branch, last/next run, failures): a merge carries a job's definition to the parent
 * and the parent keeps its own state. A job runs only where `armed_branch` is the serving
 * branch's id, so a clone (or a reset) is inert until the job is resumed on it.
 * schedules.runs is history: never merged. Idempotent.
 */
export const SCHEDULES_SCHEMA_SQL = `
CREATE SCHEMA IF NOT EXISTS schedules;
CREATE TABLE IF NOT EXISTS schedules.jobs (
  name text PRIMARY KEY,
  cron text NOT NULL,
  timezone text NOT NULL DEFAULT 'UTC',
  target_kind text NOT NULL CHECK (target_kind IN ('function', 'url')),
  target text NOT NULL,
  method text NOT NULL DEFAULT 'POST',
  headers jsonb NOT NULL DEFAULT '{}',
  payload jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- Runtime and safety state, excluded from merge.
  paused boolean NOT NULL DEFAULT false,
  paused_reason text,
  armed_branch bigint,
  last_run_at timestamptz,
  next_run_at timestamptz,
  failure_count int NOT NULL DEFAULT 0,
  last_status text
);
CREATE TABLE IF NOT EXISTS schedules.runs (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  job text NOT NULL,
  -- The cron tick this run is for (null for a manual run): unique, so two runners never both fire it.
  scheduled_for timestamptz,
  started_at timestamptz NOT NULL DEFAULT now(),
  duration_ms int,
  status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed')),
  http_status int,
  response text,
  error text
);
CREATE UNIQUE INDEX IF NOT EXISTS runs_tick_key ON schedules.runs (job, scheduled_for);
CREATE INDEX IF NOT EXISTS runs_job_started ON schedules.runs (job, started_at DESC);
INSERT INTO bough.table_policies (table_name, policy, key_columns, excluded_columns) VALUES
  ('schedules.jobs', 'upsert', '{name}',
   '{paused,paused_reason,armed_branch,last_run_at,next_run_at,failure_count,last_status}'),
  ('schedules.runs', 'ignore', '{}', '{}')
ON CONFLICT (table_name) DO NOTHING;
`;

/** Installs the schedules schema (and bough's bookkeeping it registers its tables in). */
export async function ensureSchedulesSchema(client: pg.ClientBase): Promise<void> {
  await ensureBookkeeping(client);
  await client.query(SCHEDULES_SCHEMA_SQL);
}
