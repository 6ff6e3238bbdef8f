import type pg from "pg";
import { ensureBookkeeping } from "../../merge/bookkeeping.ts";
import { DEFAULT_TEMPLATES } from "./templates.ts";

const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;

/**
 * The email service's state, beside auth's outbox (auth/schema.ts creates email.outbox).
 * Templates and SMTP settings are config (upserted by key on merge); the SMTP password and
 * `armed_branch` (the bough branch id SMTP was set on: only there does it deliver) are
 * excluded, so a merge never carries them and a clone is inert until set on it. The outbox
 * is data. Rows of an outbox that predates delivery are `held` (never sent late).
 */
export const EMAIL_SCHEMA_SQL = `
CREATE SCHEMA IF NOT EXISTS email;
REVOKE ALL ON SCHEMA email FROM PUBLIC;
CREATE TABLE IF NOT EXISTS email.templates (
  type text PRIMARY KEY,
  subject text NOT NULL,
  body text NOT NULL
);
INSERT INTO email.templates (type, subject, body) VALUES
${Object.entries(DEFAULT_TEMPLATES)
  .map(([type, t]) => `  (${quote(type)}, ${quote(t.subject)}, ${quote(t.body)})`)
  .join(",\n")}
ON CONFLICT (type) DO NOTHING;
CREATE TABLE IF NOT EXISTS email.smtp (
  id int PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  host text NOT NULL,
  port int NOT NULL CHECK (port BETWEEN 1 AND 65535),
  username text,
  sender text,
  secure boolean NOT NULL DEFAULT false,
  password_encrypted text,
  armed_branch bigint
);
ALTER TABLE email.outbox ADD COLUMN IF NOT EXISTS html text;
ALTER TABLE email.outbox ADD COLUMN IF NOT EXISTS status text NOT NULL DEFAULT 'held';
ALTER TABLE email.outbox ALTER COLUMN status SET DEFAULT 'pending';
ALTER TABLE email.outbox ADD COLUMN IF NOT EXISTS error text;
ALTER TABLE email.outbox ADD COLUMN IF NOT EXISTS attempts int NOT NULL DEFAULT 0;
-- The branch that queued it: only that branch ever delivers it (a clone's copy of the
-- parent's pending mail is never sent by the branch, whatever SMTP it sets).
ALTER TABLE email.outbox ADD COLUMN IF NOT EXISTS queued_branch bigint;
CREATE INDEX IF NOT EXISTS outbox_pending ON email.outbox (id) WHERE status = 'pending';
INSERT INTO bough.table_policies (table_name, policy, key_columns, excluded_columns) VALUES
  ('email.templates', 'upsert', '{type}', '{}'),
  ('email.smtp', 'upsert', '{id}', '{password_encrypted,armed_branch}')
ON CONFLICT (table_name) DO NOTHING;
`;

/** Installs the email service's tables (after auth's, which creates the outbox). */
export async function ensureEmailSchema(client: pg.ClientBase): Promise<void> {
  await ensureBookkeeping(client);
  await client.query(EMAIL_SCHEMA_SQL);
}
