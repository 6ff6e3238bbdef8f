import type pg from "pg";
import { ensureBookkeeping } from "../../merge/bookkeeping.ts";

/**
 * Secrets live in the branch's own database (a clone has its parent's rows, reset brings
 * back T0's) but are never merged: `ignore` in bough.table_policies. Values are ciphertexts
 * (crypto.ts); `set_on_branch` is the control-plane id of the branch the value was set on,
 * so a row is the branch's own or inherited. No request role has USAGE on the schema.
 */
export const SECRETS_SCHEMA_SQL = `
CREATE SCHEMA IF NOT EXISTS secrets;
REVOKE ALL ON SCHEMA secrets FROM PUBLIC;
CREATE TABLE IF NOT EXISTS secrets.secrets (
  key text PRIMARY KEY,
  value_encrypted text NOT NULL,
  production_only boolean NOT NULL DEFAULT false,
  set_on_branch bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO bough.table_policies (table_name, policy, key_columns, excluded_columns) VALUES
  ('secrets.secrets', 'ignore', '{}', '{}')
ON CONFLICT (table_name) DO NOTHING;
`;

export async function ensureSecretsSchema(client: pg.ClientBase): Promise<void> {
  await ensureBookkeeping(client);
  await client.query(SECRETS_SCHEMA_SQL);
}
