import type pg from "pg";
import { ensureBookkeeping } from "../../merge/bookkeeping.ts";

/**
 * The storage service's state, inside the branch's own database, shaped as Supabase's
 * `storage` schema so policies written for Supabase work unchanged. storage.buckets is
 * config (merged as upsert-by-id); storage.objects is user data (never merged, emptied
 * on schema-only branches): each row names its bytes by sha256 in the project's shared
 * blob store, so a clone copies no file. Kept in TS so the build carries it. Idempotent.
 */
export const STORAGE_SCHEMA_SQL = `
CREATE SCHEMA IF NOT EXISTS storage;
CREATE TABLE IF NOT EXISTS storage.buckets (
  id text PRIMARY KEY,
  name text NOT NULL UNIQUE,
  owner uuid,
  owner_id text,
  public boolean NOT NULL DEFAULT false,
  file_size_limit bigint,
  allowed_mime_types text[],
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS storage.objects (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  bucket_id text NOT NULL REFERENCES storage.buckets (id),
  name text COLLATE "C" NOT NULL,
  owner uuid,
  owner_id text,
  metadata jsonb NOT NULL DEFAULT '{}',
  user_metadata jsonb,
  version text,
  -- bough: the blob holding the bytes (content address in the project's blob store).
  sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  last_accessed_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (bucket_id, name)
);
ALTER TABLE storage.buckets ENABLE ROW LEVEL SECURITY;
ALTER TABLE storage.objects ENABLE ROW LEVEL SECURITY;
GRANT USAGE ON SCHEMA storage TO anon, authenticated, service_role;
GRANT ALL ON storage.buckets, storage.objects TO anon, authenticated, service_role;

-- Supabase's path helpers, for policies such as (storage.foldername(name))[1] = auth.uid()::text.
CREATE OR REPLACE FUNCTION storage.foldername(name text) RETURNS text[]
  LANGUAGE sql IMMUTABLE
  AS $f$ SELECT (string_to_array(name, '/'))[1:cardinality(string_to_array(name, '/')) - 1] $f$;
CREATE OR REPLACE FUNCTION storage.filename(name text) RETURNS text
  LANGUAGE sql IMMUTABLE
  AS $f$ SELECT (string_to_array(name, '/'))[cardinality(string_to_array(name, '/'))] $f$;
CREATE OR REPLACE FUNCTION storage.extension(name text) RETURNS text
  LANGUAGE sql IMMUTABLE
  AS $f$ SELECT reverse(split_part(reverse(storage.filename(name)), '.', 1)) $f$;
GRANT EXECUTE ON FUNCTION storage.foldername(text), storage.filename(text), storage.extension(text)
  TO anon, authenticated, service_role;

INSERT INTO bough.table_policies (table_name, policy, key_columns, excluded_columns) VALUES
  ('storage.buckets', 'upsert', '{id}', '{}'),
  ('storage.objects', 'ignore', '{}', '{}')
ON CONFLICT (table_name) DO NOTHING;
`;

/** Installs the storage schema (and bough's bookkeeping it registers its tables in). */
export async function ensureStorageSchema(client: pg.ClientBase): Promise<void> {
  await ensureBookkeeping(client);
  await client.query(STORAGE_SCHEMA_SQL);
}
