import type pg from "pg";
import { ensureBookkeeping } from "../../merge/bookkeeping.ts";

/** The publication a table joins to be streamed, as on Supabase. */
export const PUBLICATION = "supabase_realtime";

/**
 * The realtime service's state in the branch's own database. realtime.channel_settings is
 * config (merged as upsert-by-topic): a topic marked private admits signed-in users only.
 * The publication starts empty (Supabase's default): `alter publication supabase_realtime
 * add table T` enables a table. No replication slot is stored here: the server decodes on a
 * temporary slot while a branch has subscribers, so clones and T0 carry none. Idempotent.
 */
const REALTIME_SCHEMA_SQL = `
CREATE SCHEMA IF NOT EXISTS realtime;
CREATE TABLE IF NOT EXISTS realtime.channel_settings (
  topic text PRIMARY KEY CHECK (topic <> '' AND length(topic) <= 255),
  private boolean NOT NULL DEFAULT false,
  updated_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE realtime.channel_settings ENABLE ROW LEVEL SECURITY;
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_publication WHERE pubname = '${PUBLICATION}') THEN
    CREATE PUBLICATION ${PUBLICATION};
  END IF;
END
$$;
INSERT INTO bough.table_policies (table_name, policy, key_columns, excluded_columns) VALUES
  ('realtime.channel_settings', 'upsert', '{topic}', '{}')
ON CONFLICT (table_name) DO NOTHING;
`;

/** Installs the realtime schema and the supabase_realtime publication. */
export async function ensureRealtimeSchema(client: pg.ClientBase): Promise<void> {
  await ensureBookkeeping(client);
  await client.query(REALTIME_SCHEMA_SQL);
}

/** SQL condition: the realtime schema is installed. */
export const REALTIME_SCHEMA_PRESENT = `to_regclass('realtime.channel_settings') IS NOT NULL
       AND EXISTS (SELECT FROM pg_publication WHERE pubname = '${PUBLICATION}')`;
