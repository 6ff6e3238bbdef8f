import type pg from "pg";

/**
 * Databases made before merge-rows existed get the wider CHECK (once: the ALTER locks the
 * table). Also run by a merge that brings a merge-rows policy to such a parent.
 */
export const WIDEN_POLICY_CHECK_SQL = `DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_constraint
                  WHERE conrelid = 'bough.table_policies'::regclass AND contype = 'c'
                    AND pg_get_constraintdef(oid) LIKE '%merge-rows%') THEN
    ALTER TABLE bough.table_policies DROP CONSTRAINT IF EXISTS table_policies_policy_check,
      ADD CONSTRAINT table_policies_policy_check CHECK (policy IN ('ignore', 'upsert', 'merge-rows'));
  END IF;
END $$;`;

/**
 * bough's own bookkeeping inside every branch database: recorded migrations,
 * per-table merge policies and the registry of user-data tables. It lives in the database so it branches, resets and
 * merges with everything else; introspection leaves the schema itself out.
 */
export const BOOKKEEPING_SQL = `
CREATE SCHEMA IF NOT EXISTS bough;
CREATE TABLE IF NOT EXISTS bough.migrations (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL UNIQUE,
  checksum text NOT NULL,
  sql text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS bough.table_policies (
  table_name text PRIMARY KEY,
  policy text NOT NULL CHECK (policy IN ('ignore', 'upsert', 'merge-rows')),
  key_columns text[] NOT NULL DEFAULT '{}',
  excluded_columns text[] NOT NULL DEFAULT '{}'
);
${WIDEN_POLICY_CHECK_SQL}
-- Tables that hold user data wherever they live (platform services register theirs, e.g.
-- auth.users): schema-only branches empty them even if a policy or their schema says keep.
CREATE TABLE IF NOT EXISTS bough.user_data_tables (
  table_name text PRIMARY KEY
);
`;

export async function ensureBookkeeping(client: pg.ClientBase): Promise<void> {
  await client.query(BOOKKEEPING_SQL);
}
