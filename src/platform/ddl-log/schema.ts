import type pg from "pg";
import { ensureBookkeeping } from "../../merge/bookkeeping.ts";
import { ddlEventTriggersSql } from "../event-triggers.ts";

/**
 * The DDL audit of a branch: an event trigger records every DDL statement into
 * bough.ddl_log (history: `ignore` in bough.table_policies, never merged; introspection
 * and the catalog fingerprint skip the schema and triggers whose function lives there).
 *
 * - `cluster` is the data directory of the cluster that ran the statement. A clone
 *   copies its parent's rows with the parent's directory, and directories are keyed by
 *   branch id (never reused), so a branch's own history is its rows with its own
 *   directory: since the fork, and back to nothing after a reset to T0.
 * - SECURITY DEFINER so DDL by any role can write the log, which no other role can
 *   read or write; the invoker's role is `current_setting('role')` (current_user is the
 *   definer inside the function).
 * - A failing record never fails the user's DDL: errors are swallowed into a WARNING
 *   (a cancel still cancels: query_canceled is not among OTHERS).
 * - One row per statement: sql_drop fires just before ddl_command_end of the same
 *   command, so it inserts the row and leaves its id in a transaction-local setting for
 *   ddl_command_end to add the created/altered objects to (checked against the xact).
 * - Objects in temporary schemas and in `bough` are left out, and a statement that
 *   touched nothing else (`CREATE TABLE IF NOT EXISTS` of an existing table, bough's own
 *   bookkeeping) is not recorded. `target` is the names of the object a change belongs
 *   to (a column's or an index's relation, a function), for linking merge changes.
 */
/** SQL: [schema, relation] of the `catalog` row the command touched, by its `rel` column. */
const relationOf = (catalog: string, rel: string) =>
  `(SELECT ARRAY[n.nspname, r.relname]::text[] FROM ${catalog} x
      JOIN pg_class r ON r.oid = x.${rel}
      JOIN pg_namespace n ON n.oid = r.relnamespace WHERE x.oid = c.objid)`;

const DDL_LOG_SQL = `
CREATE TABLE IF NOT EXISTS bough.ddl_log (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT clock_timestamp(),
  cluster text NOT NULL,
  xact bigint NOT NULL,
  session_user_name text NOT NULL,
  current_user_name text NOT NULL,
  application_name text NOT NULL,
  command_tag text NOT NULL,
  statement text NOT NULL,
  objects jsonb NOT NULL
);
REVOKE ALL ON bough.ddl_log FROM PUBLIC;
INSERT INTO bough.table_policies (table_name, policy, key_columns, excluded_columns) VALUES
  ('bough.ddl_log', 'ignore', '{}', '{}')
ON CONFLICT (table_name) DO NOTHING;
-- Statement texts carry literals: a schema-only branch empties the parent's history.
INSERT INTO bough.user_data_tables (table_name) VALUES ('bough.ddl_log')
ON CONFLICT (table_name) DO NOTHING;
CREATE OR REPLACE FUNCTION bough.ddl_log_record() RETURNS event_trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog
  AS $f$
DECLARE
  objs jsonb;
  pending text;
BEGIN
  BEGIN
    IF TG_EVENT = 'sql_drop' THEN
      SELECT coalesce(jsonb_agg(jsonb_build_object(
               'action', 'dropped', 'type', d.object_type, 'schema', d.schema_name,
               'identity', d.object_identity,
               'target', CASE WHEN d.object_type IN ('type', 'domain')
                              THEN ARRAY[d.schema_name, d.object_name]
                              ELSE d.address_names[1:2] END)), '[]')
        INTO objs
        FROM pg_event_trigger_dropped_objects() d
       WHERE (d.original OR d.normal) AND NOT d.is_temporary
         AND d.schema_name IS DISTINCT FROM 'bough'
         AND NOT (d.object_type = 'schema' AND d.object_identity = 'bough');
    ELSE
      SELECT coalesce(jsonb_agg(jsonb_build_object(
               'action', c.command_tag, 'type', c.object_type, 'schema', c.schema_name,
               'identity', c.object_identity,
               'target', CASE c.classid
                 WHEN 'pg_class'::regclass THEN
                   (SELECT ARRAY[n.nspname, r.relname]::text[] FROM pg_class r
                      JOIN pg_namespace n ON n.oid = r.relnamespace WHERE r.oid = c.objid)
                 WHEN 'pg_constraint'::regclass THEN
                   (SELECT ARRAY[n.nspname, coalesce(r.relname, t.typname)]::text[]
                      FROM pg_constraint k
                      LEFT JOIN pg_class r ON r.oid = k.conrelid
                      LEFT JOIN pg_type t ON t.oid = k.contypid
                      JOIN pg_namespace n ON n.oid = coalesce(r.relnamespace, t.typnamespace)
                     WHERE k.oid = c.objid)
                 WHEN 'pg_trigger'::regclass THEN
                   ${relationOf("pg_trigger", "tgrelid")}
                 WHEN 'pg_policy'::regclass THEN
                   ${relationOf("pg_policy", "polrelid")}
                 WHEN 'pg_rewrite'::regclass THEN
                   ${relationOf("pg_rewrite", "ev_class")}
                 WHEN 'pg_proc'::regclass THEN
                   (SELECT ARRAY[n.nspname, p.proname]::text[] FROM pg_proc p
                      JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.oid = c.objid)
                 WHEN 'pg_type'::regclass THEN
                   (SELECT ARRAY[n.nspname, t.typname]::text[] FROM pg_type t
                      JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.oid = c.objid)
                 WHEN 'pg_namespace'::regclass THEN
                   (SELECT ARRAY[n.nspname]::text[] FROM pg_namespace n WHERE n.oid = c.objid)
               END)), '[]')
        INTO objs
        FROM pg_event_trigger_ddl_commands() c
       WHERE NOT c.in_extension
         AND coalesce(c.schema_name, '') NOT LIKE 'pg\\_temp%'
         AND c.schema_name IS DISTINCT FROM 'bough'
         AND NOT (c.object_type = 'schema' AND c.object_identity = 'bough');
    END IF;
    pending := nullif(current_setting('bough.ddl_log_pending', true), '');
    IF TG_EVENT = 'ddl_command_end' AND pending IS NOT NULL THEN
      PERFORM set_config('bough.ddl_log_pending', '', true);
      UPDATE bough.ddl_log SET objects = objects || objs
       WHERE id = pending::bigint AND xact = txid_current();
      IF FOUND THEN RETURN; END IF;
    END IF;
    IF jsonb_array_length(objs) = 0 THEN RETURN; END IF;
    INSERT INTO bough.ddl_log (cluster, xact, session_user_name, current_user_name,
                               application_name, command_tag, statement, objects)
    VALUES (current_setting('data_directory'), txid_current(), session_user,
            CASE current_setting('role') WHEN 'none' THEN session_user ELSE current_setting('role') END,
            current_setting('application_name'), TG_TAG,
            left(coalesce(current_query(), ''), 20000), objs)
    RETURNING id::text INTO pending;
    IF TG_EVENT = 'sql_drop' THEN
      PERFORM set_config('bough.ddl_log_pending', pending, true);
    END IF;
  EXCEPTION WHEN OTHERS THEN
    RAISE WARNING 'bough: DDL not recorded in bough.ddl_log: %', SQLERRM;
  END;
END
$f$;
REVOKE ALL ON FUNCTION bough.ddl_log_record() FROM PUBLIC;
${ddlEventTriggersSql({ end: "bough_ddl_log_end", drop: "bough_ddl_log_drop", fn: "bough.ddl_log_record" })}
`;

/** Installs bough.ddl_log and its event triggers (idempotent; superuser). */
export async function ensureDdlLog(client: pg.ClientBase): Promise<void> {
  await ensureBookkeeping(client);
  await client.query(DDL_LOG_SQL);
}

/** SQL condition: the DDL log is installed. */
export const DDL_LOG_PRESENT = "to_regclass('bough.ddl_log') IS NOT NULL";
