import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { withClient } from "../../src/branches/sql.ts";

export { withClient };

import { quoteIdent } from "../../src/core/names.ts";

/** The migra fixture corpus (see its SOURCE.md); BOUGH_CORPUS_DIR points elsewhere. */
export const CORPUS_DIR =
  process.env.BOUGH_CORPUS_DIR ?? resolve(import.meta.dirname, "../../../shared/corpus/migra");

/**
 * Case names of the corpus (folders holding a.sql and b.sql), sorted. `npm test` runs every
 * third one of the merge suite (each case is a project, a branch and a rehearsed merge: ~10 s); `npm run
 * test:corpus` (BOUGH_CORPUS=all) runs them all.
 */
export function corpusCases(o: { all?: boolean } = {}): string[] {
  if (!existsSync(CORPUS_DIR)) return [];
  const all = readdirSync(CORPUS_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(CORPUS_DIR, d.name, "a.sql")))
    .map((d) => d.name)
    .sort();
  return o.all || process.env.BOUGH_CORPUS === "all" ? all : all.filter((_, i) => i % 3 === 0);
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

/**
 * One database with every kind of object the snapshot knows, and the traps around them
 * (identity sequences, partition clones, extension members, a `scratch` schema to
 * exclude, bough's own schema). Needs the corpus roles (ensureCorpusRoles).
 */
export const KITCHEN_SINK_SQL = `
CREATE EXTENSION citext;
CREATE SCHEMA app;
CREATE SCHEMA scratch;
CREATE TABLE scratch.ignored (id int);
CREATE TYPE app.mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN app.posint AS integer NOT NULL DEFAULT 1 CHECK (VALUE > 0) CONSTRAINT small CHECK (VALUE < 1000);
CREATE TYPE app.pair AS (a integer, b app.mood);
CREATE SEQUENCE app.counter INCREMENT 5 START 100 CACHE 2 CYCLE;
CREATE FUNCTION app.double(i integer) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT i * 2';
CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.updated := now(); RETURN NEW; END$$;
CREATE PROCEDURE app.noop(n integer) LANGUAGE sql BEGIN ATOMIC SELECT n; END;
CREATE AGGREGATE app.total(integer) (SFUNC = int4pl, STYPE = integer, INITCOND = '0');
CREATE TABLE app.users (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email citext NOT NULL UNIQUE,
  name text COLLATE "C",
  mood app.mood DEFAULT 'ok',
  score app.posint,
  pair app.pair,
  n integer DEFAULT nextval('app.counter'),
  twice integer GENERATED ALWAYS AS (app.double(n)) STORED,
  updated timestamptz,
  CONSTRAINT name_len CHECK (length(name) < 100)
) WITH (fillfactor = 70);
ALTER SEQUENCE app.counter OWNED BY app.users.n;
CREATE TABLE app.posts (
  id serial PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES app.users (id) ON DELETE CASCADE,
  body text,
  moods app.mood[]
);
CREATE INDEX posts_body_idx ON app.posts (lower(body)) WHERE body IS NOT NULL;
CREATE TABLE app.events (id int NOT NULL, at date NOT NULL, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE app.events_2024 PARTITION OF app.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE INDEX events_at_idx ON app.events (at);
CREATE TABLE app.event_refs (id int, at date, FOREIGN KEY (id, at) REFERENCES app.events);
CREATE TABLE app.base (created timestamptz DEFAULT now(), CHECK (created IS NOT NULL));
CREATE TABLE app.child (extra int) INHERITS (app.base);
CREATE UNLOGGED TABLE app.cache (k text);
CREATE VIEW app.user_names WITH (security_barrier) AS SELECT id, app.double(n) AS d, name FROM app.users;
CREATE MATERIALIZED VIEW app.post_counts AS SELECT user_id, count(*) AS c FROM app.posts GROUP BY user_id;
CREATE UNIQUE INDEX post_counts_user ON app.post_counts (user_id);
CREATE TRIGGER users_touch BEFORE UPDATE ON app.users FOR EACH ROW EXECUTE FUNCTION app.touch();
ALTER TABLE app.users DISABLE TRIGGER users_touch;
CREATE TRIGGER events_touch BEFORE UPDATE ON app.events FOR EACH ROW EXECUTE FUNCTION app.touch();
CREATE RULE posts_keep AS ON DELETE TO app.posts WHERE old.body IS NOT NULL DO INSTEAD NOTHING;
ALTER TABLE app.posts DISABLE RULE posts_keep;
CREATE STATISTICS app.users_pair (ndistinct, dependencies) ON id, name FROM app.users;
ALTER STATISTICS app.users_pair SET STATISTICS 250;
CREATE FUNCTION app.on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$BEGIN END$$;
CREATE EVENT TRIGGER app_ddl ON ddl_command_end WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE') EXECUTE FUNCTION app.on_ddl();
ALTER TABLE app.posts ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_posts ON app.posts AS RESTRICTIVE FOR UPDATE TO schemainspect_test_role
  USING (user_id > 0) WITH CHECK (body IS NOT NULL);
GRANT USAGE ON SCHEMA app TO schemainspect_test_role;
GRANT SELECT, INSERT ON app.users TO schemainspect_test_role WITH GRANT OPTION;
GRANT UPDATE (body) ON app.posts TO schemainspect_test_role;
GRANT USAGE ON SEQUENCE app.counter TO PUBLIC;
REVOKE EXECUTE ON FUNCTION app.double(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.double(integer) TO schemainspect_test_role;
REVOKE USAGE ON TYPE app.mood FROM PUBLIC;
COMMENT ON SCHEMA app IS 'the app';
COMMENT ON TABLE app.users IS 'people';
COMMENT ON COLUMN app.users.email IS 'login';
COMMENT ON CONSTRAINT name_len ON app.users IS 'short names';
COMMENT ON TRIGGER users_touch ON app.users IS 'stamp';
COMMENT ON RULE posts_keep ON app.posts IS 'keep written posts';
COMMENT ON EVENT TRIGGER app_ddl IS 'audit';
COMMENT ON COLUMN app.user_names.name IS 'a view column: not an object';
CREATE PUBLICATION app_feed WITH (publish = 'insert, update');
ALTER PUBLICATION app_feed ADD TABLE app.posts (id, body) WHERE (id > 0), app.users;
CREATE PUBLICATION app_schema FOR TABLES IN SCHEMA app;
CREATE SCHEMA bough;
CREATE TABLE bough.private (id int);
ALTER PUBLICATION app_feed ADD TABLE bough.private;
ALTER PUBLICATION app_schema ADD TABLES IN SCHEMA bough, scratch;
`;
