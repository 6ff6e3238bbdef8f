import type pg from "pg";
import { ensureBookkeeping } from "../../merge/bookkeeping.ts";

/**
 * The auth service's state, inside the branch's own database (so a clone snapshots it,
 * reset restores it and merge sees it as data). Users, identities, sessions, tokens and
 * sent mail are user data: never merged, emptied on schema-only branches. auth.config and
 * auth.oauth_providers are config: merged as upsert-by-key, client secrets excluded.
 * Kept in TS, not a .sql file, so the build carries it. Idempotent.
 */
export const AUTH_SCHEMA_SQL = `
CREATE SCHEMA IF NOT EXISTS auth;
CREATE TABLE IF NOT EXISTS auth.users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  aud text NOT NULL DEFAULT 'authenticated',
  role text NOT NULL DEFAULT 'authenticated',
  email text,
  encrypted_password text,
  email_confirmed_at timestamptz,
  confirmation_sent_at timestamptz,
  recovery_sent_at timestamptz,
  last_sign_in_at timestamptz,
  raw_app_meta_data jsonb NOT NULL DEFAULT '{}',
  raw_user_meta_data jsonb NOT NULL DEFAULT '{}',
  is_anonymous boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS users_email_key ON auth.users (lower(email));
CREATE TABLE IF NOT EXISTS auth.identities (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  provider text NOT NULL,
  provider_id text NOT NULL,
  identity_data jsonb NOT NULL DEFAULT '{}',
  last_sign_in_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (provider, provider_id)
);
CREATE TABLE IF NOT EXISTS auth.sessions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  aal text NOT NULL DEFAULT 'aal1',
  created_at timestamptz NOT NULL DEFAULT now(),
  refreshed_at timestamptz
);
CREATE TABLE IF NOT EXISTS auth.refresh_tokens (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- sha256 of the token: a leaked database does not leak usable refresh tokens.
  token_hash text NOT NULL UNIQUE,
  session_id uuid NOT NULL REFERENCES auth.sessions (id) ON DELETE CASCADE,
  revoked boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS auth.one_time_tokens (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  token_type text NOT NULL CHECK (token_type IN ('signup', 'recovery', 'magiclink')),
  token_hash text NOT NULL UNIQUE,
  otp_hash text NOT NULL,
  failed_attempts int NOT NULL DEFAULT 0,
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS auth.config (
  key text PRIMARY KEY,
  value jsonb NOT NULL
);
INSERT INTO auth.config (key, value) VALUES
  ('site_url', '"http://localhost:3000"'),
  ('uri_allow_list', '[]'),
  ('password_min_length', '6'),
  ('disable_signup', 'false'),
  ('mailer_autoconfirm', 'true')
ON CONFLICT (key) DO NOTHING;
CREATE TABLE IF NOT EXISTS auth.oauth_providers (
  provider text PRIMARY KEY,
  enabled boolean NOT NULL DEFAULT false,
  client_id text,
  -- AES-256-GCM under a key derived from the project's secret; never merged or shown.
  client_secret_encrypted text,
  redirect_uri text
);
-- Mail the platform sends; the email service (next) delivers from here. Until then it only
-- records: a branch never sends mail it did not configure itself.
CREATE SCHEMA IF NOT EXISTS email;
CREATE TABLE IF NOT EXISTS email.outbox (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  to_address text NOT NULL,
  template text NOT NULL,
  subject text NOT NULL,
  body text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at timestamptz
);
INSERT INTO bough.table_policies (table_name, policy, key_columns, excluded_columns) VALUES
  ('auth.config', 'upsert', '{key}', '{}'),
  ('auth.oauth_providers', 'upsert', '{provider}', '{client_secret_encrypted}'),
  ('auth.users', 'ignore', '{}', '{}'),
  ('auth.identities', 'ignore', '{}', '{}'),
  ('auth.sessions', 'ignore', '{}', '{}'),
  ('auth.refresh_tokens', 'ignore', '{}', '{}'),
  ('auth.one_time_tokens', 'ignore', '{}', '{}'),
  ('email.outbox', 'ignore', '{}', '{}')
ON CONFLICT (table_name) DO NOTHING;
`;

/** Installs the auth schema (and bough's bookkeeping it registers its tables in). */
export async function ensureAuthSchema(client: pg.ClientBase): Promise<void> {
  await ensureBookkeeping(client);
  await client.query(AUTH_SCHEMA_SQL);
}
