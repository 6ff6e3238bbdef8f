import { columnId, memberId, schemaObjectId, tableId } from "../catalog/ids.ts";
import {
  notExtensionMember,
  notPartitionFkClone,
  USER_OID,
  userSchema,
} from "../introspect/context.ts";
import { relationId } from "../introspect/ids.ts";
import { type CatalogQuery, qn, sorted } from "./spec.ts";

const classKey = (n: string, c: string) => `'class:' || ${qn(`${n}.nspname`, `${c}.relname`)}`;

/** Relations: kind, owner, persistence, replica identity, RLS, options, ACL, partitioning. */
const classes: CatalogQuery = {
  sql: `SELECT ${classKey("n", "c")} AS key, NULL AS on, ARRAY[c.relkind::text, n.nspname, c.relname]::text[] AS parts,
               c.relkind::text AS kind, pg_get_userbyid(c.relowner)::text AS owner,
               c.relpersistence::text AS persistence, c.relreplident::text AS replica_identity,
               c.relrowsecurity AS rls, c.relforcerowsecurity AS rls_forced, ${sorted("c.reloptions")} AS options,
               ${sorted("coalesce(c.relacl, acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::\"char\", c.relowner))")} AS acl,
               am.amname::text AS access_method, ts.spcname::text AS tablespace, c.relispartition AS partition,
               pg_get_expr(c.relpartbound, c.oid) AS partition_bound,
               CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_key,
               (SELECT string_agg(${qn("pn.nspname", "pc.relname")}, ',' ORDER BY i.inhseqno)
                  FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent
                  JOIN pg_namespace pn ON pn.oid = pc.relnamespace
                 WHERE i.inhrelid = c.oid) AS inherits,
               CASE WHEN c.reloftype <> 0 THEN c.reloftype::regtype::text END AS of_type
          FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace
          LEFT JOIN pg_am am ON am.oid = c.relam
          LEFT JOIN pg_tablespace ts ON ts.oid = c.reltablespace
         WHERE c.oid >= ${USER_OID} AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c')
           AND ${userSchema("n")} AND ${notExtensionMember("pg_class", "c.oid")}
           AND NOT EXISTS (SELECT 1 FROM pg_depend i WHERE i.classid = 'pg_class'::regclass
                            AND i.objid = c.oid AND i.deptype = 'i')`,
  // An identity column's sequence has a generated name: it is the `identity:` entry of its column.
  sid: ([kind, s, n]) => (kind === "f" ? null : relationId(kind, s, n)),
};

/**
 * Columns of tables, foreign tables and composite types; attnum is left out (a column
 * re-added elsewhere is the same column). Storage is listed only where it is not the
 * type's own (a retyped column takes the new type's storage by itself).
 */
const columns: CatalogQuery = {
  sql: `SELECT 'column:' || format('%I.%I.%I', n.nspname, c.relname, a.attname) AS key, ${classKey("n", "c")} AS on,
               ARRAY[c.relkind::text, n.nspname, c.relname, a.attname]::text[] AS parts,
               format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
               a.attidentity::text AS identity, a.attgenerated::text AS generated,
               CASE WHEN a.attgenerated = '' THEN pg_get_expr(ad.adbin, 0)
                    ELSE pg_get_expr(ad.adbin, ad.adrelid) END AS default,
               CASE WHEN a.attcollation <> t.typcollation THEN a.attcollation::regcollation::text END AS collation,
               CASE WHEN a.attstorage <> t.typstorage THEN a.attstorage::text END AS storage, a.attstattarget::text AS statistics_target,
               a.attcompression::text AS compression, ${sorted("a.attoptions")} AS options,
               ${sorted("a.attfdwoptions")} AS fdw_options, ${sorted("a.attacl")} AS acl,
               a.attislocal AS local, a.attinhcount::text AS inherited_count
          FROM pg_attribute a
          JOIN pg_class c ON c.oid = a.attrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace
          JOIN pg_type t ON t.oid = a.atttypid
          LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
         WHERE a.attrelid >= ${USER_OID} AND c.relkind IN ('r', 'p', 'f', 'c') AND a.attnum > 0
           AND NOT a.attisdropped AND ${userSchema("n")} AND ${notExtensionMember("pg_class", "c.oid")}`,
  sid: ([kind, s, t, c]) =>
    kind === "f" ? null : kind === "c" ? relationId("c", s, t) : columnId(s, t, c),
};

/** pg_sequence; an identity sequence is keyed by its column (its own name is generated). */
const sequences: CatalogQuery = {
  sql: `SELECT CASE WHEN oc.oid IS NULL THEN 'sequence:' || ${qn("n.nspname", "c.relname")}
                    ELSE 'identity:' || format('%I.%I.%I', own.nspname, oc.relname, oa.attname) END AS key,
               CASE WHEN oc.oid IS NULL THEN ${classKey("n", "c")}
                    ELSE 'column:' || format('%I.%I.%I', own.nspname, oc.relname, oa.attname) END AS on,
               CASE WHEN oc.oid IS NULL THEN ARRAY['S', n.nspname, c.relname]
                    ELSE ARRAY['i', own.nspname, oc.relname, oa.attname] END::text[] AS parts,
               format_type(s.seqtypid, NULL) AS type, s.seqstart::text AS start,
               s.seqincrement::text AS increment, s.seqmin::text AS min, s.seqmax::text AS max,
               s.seqcache::text AS cache, s.seqcycle AS cycle
          FROM pg_sequence s
          JOIN pg_class c ON c.oid = s.seqrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace
          LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'i'
                AND d.refclassid = 'pg_class'::regclass
          LEFT JOIN pg_class oc ON oc.oid = d.refobjid
          LEFT JOIN pg_namespace own ON own.oid = oc.relnamespace
          LEFT JOIN pg_attribute oa ON oa.attrelid = d.refobjid AND oa.attnum = d.refobjsubid
         WHERE s.seqrelid >= ${USER_OID} AND ${userSchema("n")} AND ${notExtensionMember("pg_class", "c.oid")}`,
  sid: (p) => (p[0] === "i" ? columnId(p[1], p[2], p[3]) : relationId("S", p[1], p[2])),
};

/**
 * Constraints of tables and domains (a domain's checks are part of the domain object).
 * A NOT NULL constraint (PG 18) is keyed by its column: its generated name differs with
 * the way the DDL was written, and the snapshot has it as the column's notNull.
 */
const constraints: CatalogQuery = {
  sql: `SELECT CASE WHEN co.contype = 'n' AND rc.oid IS NOT NULL
                    THEN 'not_null:' || format('%I.%I.%I', n.nspname, rc.relname, nn.attname)
                    ELSE 'constraint:' || format('%I.%I.%I', n.nspname, coalesce(rc.relname, tt.typname), co.conname)
                    END AS key,
               CASE WHEN rc.oid IS NOT NULL THEN ${classKey("n", "rc")}
                    ELSE 'type:' || ${qn("n.nspname", "tt.typname")} END AS on,
               ARRAY[CASE WHEN co.contype = 'n' AND rc.oid IS NOT NULL THEN 'n' WHEN rc.oid IS NOT NULL THEN 'r' ELSE 'd' END, n.nspname,
                     coalesce(rc.relname, tt.typname), coalesce(nn.attname, co.conname)]::text[] AS parts,
               co.contype::text AS type, pg_get_constraintdef(co.oid, true) AS definition,
               co.condeferrable AS deferrable, co.condeferred AS deferred, co.convalidated AS validated,
               co.conislocal AS local, co.coninhcount::text AS inherited_count,
               -- Only checks and NOT NULLs can be NO INHERIT; a key's flag differs by how it was
               -- made (a detached partition's stays false) and means nothing.
               CASE WHEN co.contype IN ('c', 'n') THEN co.connoinherit END AS no_inherit
          FROM pg_constraint co
          JOIN pg_namespace n ON n.oid = co.connamespace
          LEFT JOIN pg_class rc ON rc.oid = co.conrelid AND co.conrelid <> 0
          LEFT JOIN pg_type tt ON tt.oid = co.contypid AND co.contypid <> 0
          LEFT JOIN pg_attribute nn ON co.contype = 'n' AND nn.attrelid = co.conrelid AND nn.attnum = co.conkey[1]
         WHERE co.oid >= ${USER_OID} AND (rc.oid IS NOT NULL OR tt.oid IS NOT NULL) AND ${userSchema("n")}
           AND ${notExtensionMember("pg_class", "coalesce(rc.oid, 0)")}
           AND ${notExtensionMember("pg_type", "coalesce(tt.oid, 0)")}
           AND ${notPartitionFkClone("co")}`,
  sid: ([kind, s, t, c]) => {
    if (kind === "n") return columnId(s, t, c);
    return kind === "r" ? memberId("constraint", s, t, c) : schemaObjectId("domain", s, t);
  },
};

/**
 * Indexes; one that backs a constraint is part of that constraint. A partition's index
 * attached to a partitioned index (kind "a") is not a snapshot object: Postgres makes it
 * with the partitioned index or with the partition, so either one changing explains it
 * (its name, chosen by Postgres, is then checked by the rehearsal).
 */
const indexes: CatalogQuery = {
  sql: `SELECT 'index:' || ${qn("n.nspname", "ic.relname")} AS key, ${classKey("tn", "tc")} AS on,
               ARRAY[coalesce(co.contype::text, CASE WHEN ic.relispartition THEN 'a' ELSE 'i' END),
                     n.nspname, coalesce(co.conname, ic.relname), tc.relname]::text[]
                 || ARRAY(WITH RECURSIVE up(oid, depth) AS (
                            SELECT h.inhparent, 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid
                            UNION ALL
                            SELECT h.inhparent, up.depth + 1 FROM pg_inherits h JOIN up ON h.inhrelid = up.oid)
                          SELECT x FROM up JOIN pg_class uc ON uc.oid = up.oid
                                 JOIN pg_namespace un ON un.oid = uc.relnamespace,
                               LATERAL unnest(ARRAY[un.nspname::text, uc.relname::text]) WITH ORDINALITY AS u(x, k)
                           ORDER BY up.depth, u.k) AS parts,
               pg_get_indexdef(i.indexrelid) AS definition, ${sorted("ic.reloptions")} AS options,
               i.indisclustered AS clustered, i.indisreplident AS replica_identity, i.indisvalid AS valid
          FROM pg_index i
          JOIN pg_class ic ON ic.oid = i.indexrelid
          JOIN pg_namespace n ON n.oid = ic.relnamespace
          JOIN pg_class tc ON tc.oid = i.indrelid
          JOIN pg_namespace tn ON tn.oid = tc.relnamespace
          LEFT JOIN pg_constraint co ON co.conindid = i.indexrelid AND co.conrelid = i.indrelid
                AND co.contype IN ('p', 'u', 'x')
         WHERE i.indexrelid >= ${USER_OID} AND ${userSchema("n")} AND ${notExtensionMember("pg_class", "tc.oid")}`,
  sid: ([kind, s, n, t]) => {
    if (kind === "a") return null;
    return kind === "i" ? relationId("i", s, n) : memberId("constraint", s, t, n);
  },
  // Its partition, and the partitioned indexes above it (the topmost is the snapshot's).
  partOf: ([kind, s, _n, t, ...up]) => {
    if (kind !== "a") return [];
    const above = up.flatMap((x, i) => (i % 2 === 0 ? [relationId("i", x, up[i + 1])] : []));
    return [tableId(s, t), ...above];
  },
};

const triggers: CatalogQuery = {
  sql: `SELECT 'trigger:' || format('%I.%I.%I', n.nspname, c.relname, t.tgname) AS key, ${classKey("n", "c")} AS on,
               ARRAY[n.nspname, c.relname, t.tgname]::text[] AS parts,
               pg_get_triggerdef(t.oid, true) AS definition, t.tgenabled::text AS enabled
          FROM pg_trigger t
          JOIN pg_class c ON c.oid = t.tgrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE t.oid >= ${USER_OID} AND NOT t.tgisinternal AND t.tgparentid = 0
           AND ${userSchema("n")} AND ${notExtensionMember("pg_class", "c.oid")}`,
  sid: ([s, t, n]) => memberId("trigger", s, t, n),
};

/** Policies; PUBLIC (role 0) is the bare keyword, a role named "PUBLIC" is quoted. */
const policies: CatalogQuery = {
  sql: `SELECT 'policy:' || format('%I.%I.%I', n.nspname, c.relname, p.polname) AS key, ${classKey("n", "c")} AS on,
               ARRAY[n.nspname, c.relname, p.polname]::text[] AS parts,
               p.polpermissive AS permissive, p.polcmd::text AS command,
               (SELECT array_agg(x ORDER BY x COLLATE "C")
                  FROM (SELECT CASE WHEN r = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r)) END AS x
                          FROM unnest(p.polroles) r) roles)::text AS roles,
               pg_get_expr(p.polqual, p.polrelid) AS using, pg_get_expr(p.polwithcheck, p.polrelid) AS with_check
          FROM pg_policy p
          JOIN pg_class c ON c.oid = p.polrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE p.oid >= ${USER_OID} AND ${userSchema("n")} AND ${notExtensionMember("pg_class", "c.oid")}`,
  sid: ([s, t, n]) => memberId("policy", s, t, n),
};

/** Rules other than a view's own _RETURN rule (which is the view). */
const rules: CatalogQuery = {
  sql: `SELECT 'rule:' || format('%I.%I.%I', n.nspname, c.relname, r.rulename) AS key, ${classKey("n", "c")} AS on,
               ARRAY[n.nspname, c.relname, r.rulename]::text[] AS parts,
               pg_get_ruledef(r.oid, true) AS definition, r.ev_enabled::text AS enabled
          FROM pg_rewrite r
          JOIN pg_class c ON c.oid = r.ev_class
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE r.oid >= ${USER_OID} AND r.rulename <> '_RETURN'
           AND ${userSchema("n")} AND ${notExtensionMember("pg_class", "c.oid")}`,
  sid: ([s, t, n]) => memberId("rule", s, t, n),
};

/** Extended statistics (CREATE STATISTICS); those on a foreign table are not in the snapshot. */
const statistics: CatalogQuery = {
  sql: `SELECT 'statistics:' || ${qn("n.nspname", "s.stxname")} AS key, ${classKey("tn", "c")} AS on,
               ARRAY[c.relkind::text, n.nspname, s.stxname]::text[] AS parts, pg_get_statisticsobjdef(s.oid) AS definition,
               pg_get_userbyid(s.stxowner)::text AS owner, s.stxstattarget::text AS statistics_target
          FROM pg_statistic_ext s
          JOIN pg_namespace n ON n.oid = s.stxnamespace
          JOIN pg_class c ON c.oid = s.stxrelid
          JOIN pg_namespace tn ON tn.oid = c.relnamespace
         WHERE s.oid >= ${USER_OID} AND ${userSchema("n")} AND ${notExtensionMember("pg_statistic_ext", "s.oid")}`,
  sid: ([kind, s, n]) => (kind === "f" ? null : schemaObjectId("statistics", s, n)),
};

const foreignTables: CatalogQuery = {
  sql: `SELECT 'foreign_table:' || ${qn("n.nspname", "c.relname")} AS key, ${classKey("n", "c")} AS on,
               ARRAY[]::text[]::text[] AS parts, quote_ident(s.srvname) AS server, ${sorted("f.ftoptions")} AS options
          FROM pg_foreign_table f
          JOIN pg_class c ON c.oid = f.ftrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace
          JOIN pg_foreign_server s ON s.oid = f.ftserver
         WHERE f.ftrelid >= ${USER_OID} AND ${userSchema("n")} AND ${notExtensionMember("pg_class", "c.oid")}`,
  sid: () => null,
};

export const RELATION_QUERIES: CatalogQuery[] = [
  classes,
  columns,
  sequences,
  constraints,
  indexes,
  triggers,
  policies,
  rules,
  statistics,
  foreignTables,
];
