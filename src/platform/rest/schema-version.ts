import type pg from "pg";
import { ddlEventTriggersSql } from "../event-triggers.ts";

/**
 * A token that changes with every DDL statement on the branch, so a server knows its
 * schema cache is stale with one cheap read per request. It is a random uuid, not a
 * counter: a reset brings the branch's T0 token back together with its T0 schema, so a
 * token always names one schema state (a counter could repeat with a different schema).
 * Lives in `bough` (bookkeeping: never merged, the event trigger is skipped by introspection).
 * The trigger function is SECURITY DEFINER so DDL by any role can bump the token.
 */
const INSTALL_SQL = `
CREATE SCHEMA IF NOT EXISTS bough;
CREATE TABLE IF NOT EXISTS bough.rest_schema_version (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  token uuid NOT NULL DEFAULT gen_random_uuid()
);
INSERT INTO bough.rest_schema_version DEFAULT VALUES ON CONFLICT DO NOTHING;
CREATE OR REPLACE FUNCTION bough.rest_schema_changed() RETURNS event_trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog
  AS $f$ BEGIN UPDATE bough.rest_schema_version SET token = gen_random_uuid(); END $f$;
${ddlEventTriggersSql({ end: "bough_rest_schema_ddl", drop: "bough_rest_schema_drop", fn: "bough.rest_schema_changed" })}
GRANT USAGE ON SCHEMA bough TO anon, authenticated, service_role;
GRANT SELECT ON bough.rest_schema_version TO anon, authenticated, service_role;
`;

/** Installs the schema-version token and its event triggers (idempotent; superuser). */
export async function ensureRestSchemaVersion(client: pg.ClientBase): Promise<void> {
  await client.query(INSTALL_SQL);
}

/** The current token; readable by the request roles inside their own transaction. */
export async function readSchemaToken(client: pg.ClientBase): Promise<string> {
  const { rows } = await client.query<{ token: string }>(
    "SELECT token::text AS token FROM bough.rest_schema_version",
  );
  return rows[0]?.token ?? "";
}
