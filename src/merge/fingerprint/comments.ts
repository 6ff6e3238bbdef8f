import { USER_OID, userSchema } from "../introspect/context.ts";
import { type CatalogQuery, q, qn } from "./spec.ts";

/**
 * Rows of a catalog that describe other objects by (classoid, objoid, objsubid), as `d`
 * with `of`: the key of the entry they describe. Objects the other queries do not list
 * are named by pg_identify_object.
 */
const describing = (catalog: string, columns: string) => `WITH d AS (
          SELECT ${columns}, CASE d.classoid
            WHEN 'pg_class'::regclass THEN (
              SELECT CASE WHEN d.objsubid > 0
                          THEN 'column:' || format('%I.%I.%I', n.nspname, c.relname,
                                 (SELECT a.attname FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum = d.objsubid))
                          WHEN c.relkind IN ('i', 'I') THEN 'index:' || ${qn("n.nspname", "c.relname")}
                          ELSE 'class:' || ${qn("n.nspname", "c.relname")} END
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE c.oid = d.objoid AND ${userSchema("n")})
            WHEN 'pg_proc'::regclass THEN (
              SELECT 'function:' || ${qn("n.nspname", "p.proname")} || '(' || pg_get_function_identity_arguments(p.oid) || ')'
                FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
               WHERE p.oid = d.objoid AND ${userSchema("n")})
            WHEN 'pg_type'::regclass THEN (
              SELECT 'type:' || ${qn("n.nspname", "t.typname")}
                FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
               WHERE t.oid = d.objoid AND ${userSchema("n")})
            WHEN 'pg_namespace'::regclass THEN (
              SELECT 'schema:' || ${q("n.nspname")} FROM pg_namespace n WHERE n.oid = d.objoid AND ${userSchema("n")})
            WHEN 'pg_constraint'::regclass THEN (
              SELECT 'constraint:' || format('%I.%I.%I', n.nspname,
                       coalesce((SELECT relname FROM pg_class WHERE oid = co.conrelid),
                                (SELECT typname FROM pg_type WHERE oid = co.contypid)), co.conname)
                FROM pg_constraint co JOIN pg_namespace n ON n.oid = co.connamespace
               WHERE co.oid = d.objoid AND ${userSchema("n")})
            WHEN 'pg_trigger'::regclass THEN (
              SELECT 'trigger:' || format('%I.%I.%I', n.nspname, c.relname, t.tgname)
                FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE t.oid = d.objoid AND ${userSchema("n")})
            WHEN 'pg_policy'::regclass THEN (
              SELECT 'policy:' || format('%I.%I.%I', n.nspname, c.relname, p.polname)
                FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE p.oid = d.objoid AND ${userSchema("n")})
            WHEN 'pg_rewrite'::regclass THEN (
              SELECT 'rule:' || format('%I.%I.%I', n.nspname, c.relname, r.rulename)
                FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE r.oid = d.objoid AND ${userSchema("n")})
            WHEN 'pg_statistic_ext'::regclass THEN (
              SELECT 'statistics:' || ${qn("n.nspname", "s.stxname")}
                FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace
               WHERE s.oid = d.objoid AND ${userSchema("n")})
            WHEN 'pg_collation'::regclass THEN (
              SELECT 'collation:' || ${qn("n.nspname", "c.collname")}
                FROM pg_collation c JOIN pg_namespace n ON n.oid = c.collnamespace
               WHERE c.oid = d.objoid AND ${userSchema("n")})
            WHEN 'pg_event_trigger'::regclass THEN (
              SELECT 'event_trigger:' || ${q("e.evtname")} FROM pg_event_trigger e WHERE e.oid = d.objoid)
            WHEN 'pg_extension'::regclass THEN (
              SELECT 'extension:' || ${q("e.extname")} FROM pg_extension e WHERE e.oid = d.objoid)
            ELSE (
              SELECT 'object:' || i.type || ' ' || i.identity FROM pg_identify_object(d.classoid, d.objoid, d.objsubid) i
               WHERE i.schema IS NULL OR (i.schema NOT LIKE 'pg\\_%' AND i.schema <> ALL($1::text[])))
            END AS of
            FROM ${catalog} d
           WHERE d.objoid >= ${USER_OID}
             AND NOT EXISTS (SELECT 1 FROM pg_depend xd WHERE xd.classid = d.classoid AND xd.objid = d.objoid AND xd.deptype = 'e')
        )`;

/**
 * Comments (pg_description), keyed by the key of the entry they describe (`on`), so a
 * comment's snapshot id is found through that entry (see read.ts).
 */
export const COMMENTS: CatalogQuery = {
  sql: `${describing("pg_description", "d.description")}
        SELECT 'comment:' || d.of AS key, d.of AS on, ARRAY[]::text[] AS parts, d.description AS text
          FROM d WHERE d.of IS NOT NULL`,
  sid: () => null,
};

/** SECURITY LABEL (pg_seclabel, per provider): not in the snapshot. */
export const SECURITY_LABELS: CatalogQuery = {
  sql: `${describing("pg_seclabel", "d.provider, d.label")}
        SELECT 'security_label:' || quote_ident(d.provider) || ':' || d.of AS key, d.of AS on,
               ARRAY[]::text[] AS parts, d.label AS label
          FROM d WHERE d.of IS NOT NULL`,
  sid: () => null,
};
