import {
  defaultAclId,
  eventTriggerId,
  extensionId,
  functionId,
  publicationId,
  publicationSchemaId,
  publicationTableId,
  schemaId,
  schemaObjectId,
} from "../catalog/ids.ts";
import { notExtensionMember, notInternal, USER_OID, userSchema } from "../introspect/context.ts";
import { DEFAULT_ACL_OBJECTS } from "../introspect/default-privileges.ts";
import { type CatalogQuery, q, qn, sorted } from "./spec.ts";

const schemas: CatalogQuery = {
  sql: `SELECT 'schema:' || ${q("n.nspname")} AS key, NULL AS on, ARRAY[n.nspname::text]::text[] AS parts,
               pg_get_userbyid(n.nspowner)::text AS owner,
               ${sorted("coalesce(n.nspacl, acldefault('n', n.nspowner))")} AS acl
          FROM pg_namespace n
         WHERE ${userSchema("n")} AND ${notExtensionMember("pg_namespace", "n.oid")}`,
  sid: ([s]) => schemaId(s),
};

const extensions: CatalogQuery = {
  sql: `SELECT 'extension:' || ${q("e.extname")} AS key, NULL AS on, ARRAY[e.extname::text]::text[] AS parts,
               e.extversion AS version, quote_ident(n.nspname) AS schema
          FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
         WHERE e.oid >= ${USER_OID}`,
  global: true,
  sid: ([e]) => extensionId(e),
};

/** Collations; the locale column was renamed in PG 17, so it is read by name from the row. */
const collations: CatalogQuery = {
  sql: `SELECT 'collation:' || ${qn("n.nspname", "c.collname")} AS key, NULL AS on,
               ARRAY[n.nspname, c.collname]::text[] AS parts, c.collprovider::text AS provider,
               c.collisdeterministic AS deterministic, c.collcollate AS lc_collate, c.collctype AS lc_ctype,
               coalesce(to_jsonb(c) ->> 'colllocale', to_jsonb(c) ->> 'colliculocale') AS locale,
               to_jsonb(c) ->> 'collicurules' AS rules, pg_get_userbyid(c.collowner)::text AS owner
          FROM pg_collation c JOIN pg_namespace n ON n.oid = c.collnamespace
         WHERE c.oid >= ${USER_OID} AND ${userSchema("n")} AND ${notExtensionMember("pg_collation", "c.oid")}`,
  sid: ([s, n]) => schemaObjectId("collation", s, n),
};

/** Left out by their function's schema, as in introspect: bough's own (DDL log, REST cache) are bookkeeping. */
const eventTriggers: CatalogQuery = {
  sql: `SELECT 'event_trigger:' || ${q("e.evtname")} AS key, NULL AS on, ARRAY[e.evtname::text] AS parts,
               e.evtevent::text AS event, e.evttags::text AS tags, e.evtfoid::regprocedure::text AS function,
               e.evtenabled::text AS enabled, pg_get_userbyid(e.evtowner)::text AS owner
          FROM pg_event_trigger e
          JOIN pg_proc p ON p.oid = e.evtfoid
          JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE e.oid >= ${USER_OID} AND ${userSchema("n")} AND ${notExtensionMember("pg_event_trigger", "e.oid")}`,
  sid: ([n]) => eventTriggerId(n),
};

/** Functions, procedures and aggregates (pg_get_functiondef refuses aggregates: their pg_aggregate row stands in). */
const functions: CatalogQuery = {
  sql: `SELECT 'function:' || ${qn("n.nspname", "p.proname")} || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS key,
               NULL AS on, ARRAY[n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)]::text[] AS parts,
               p.prokind::text AS kind, pg_get_userbyid(p.proowner)::text AS owner,
               ${sorted("coalesce(p.proacl, acldefault('f', p.proowner))")} AS acl,
               CASE WHEN p.prokind <> 'a' THEN pg_get_functiondef(p.oid) END AS definition,
               a.aggkind::text AS agg_kind, a.aggtransfn::regprocedure::text AS agg_transition,
               CASE WHEN a.aggfinalfn <> 0 THEN a.aggfinalfn::regprocedure::text END AS agg_final,
               CASE WHEN a.aggcombinefn <> 0 THEN a.aggcombinefn::regprocedure::text END AS agg_combine,
               format_type(a.aggtranstype, NULL) AS agg_state_type, a.agginitval AS agg_initial,
               CASE WHEN a.aggsortop <> 0 THEN a.aggsortop::regoperator::text END AS agg_sort_operator
          FROM pg_proc p
          JOIN pg_namespace n ON n.oid = p.pronamespace
          LEFT JOIN pg_aggregate a ON a.aggfnoid = p.oid
         WHERE p.oid >= ${USER_OID} AND ${userSchema("n")} AND ${notExtensionMember("pg_proc", "p.oid")}
           AND ${notInternal("pg_proc", "p.oid")}`,
  sid: ([s, f, args]) => functionId(s, f, args),
};

const TYPE_KINDS: Record<string, string> = {
  e: "enum",
  d: "domain",
  c: "composite",
  r: "range",
};

/** Enums, domains, standalone composites and ranges (array and multirange types come with them). */
const types: CatalogQuery = {
  sql: `SELECT 'type:' || ${qn("n.nspname", "t.typname")} AS key, NULL AS on,
               ARRAY[t.typtype::text, n.nspname, t.typname]::text[] AS parts,
               t.typtype::text AS kind, pg_get_userbyid(t.typowner)::text AS owner,
               ${sorted("coalesce(t.typacl, acldefault('T', t.typowner))")} AS acl,
               CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END AS base_type,
               t.typnotnull AS not_null, t.typdefault AS default,
               CASE WHEN t.typcollation <> 0 THEN t.typcollation::regcollation::text END AS collation,
               (SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e
                 WHERE e.enumtypid = t.oid)::text AS labels
          FROM pg_type t
          JOIN pg_namespace n ON n.oid = t.typnamespace
          LEFT JOIN pg_class c ON c.oid = t.typrelid
         WHERE t.oid >= ${USER_OID} AND t.typtype IN ('c', 'd', 'e', 'r') AND (t.typrelid = 0 OR c.relkind = 'c')
           AND ${userSchema("n")} AND ${notExtensionMember("pg_type", "t.oid")}`,
  sid: ([kind, s, n]) => (TYPE_KINDS[kind] ? schemaObjectId(TYPE_KINDS[kind], s, n) : null),
};

/** Range types (pg_range): the definition of the snapshot's range object. */
const ranges: CatalogQuery = {
  sql: `SELECT 'range:' || ${qn("n.nspname", "t.typname")} AS key, 'type:' || ${qn("n.nspname", "t.typname")} AS on,
               ARRAY[n.nspname, t.typname]::text[] AS parts, format_type(r.rngsubtype, NULL) AS subtype,
               CASE WHEN r.rngcollation <> 0 THEN r.rngcollation::regcollation::text END AS collation,
               ${qn("opn.nspname", "opc.opcname")} AS operator_class,
               CASE WHEN r.rngcanonical <> 0 THEN r.rngcanonical::regprocedure::text END AS canonical,
               CASE WHEN r.rngsubdiff <> 0 THEN r.rngsubdiff::regprocedure::text END AS subtype_diff,
               format_type(r.rngmultitypid, NULL) AS multirange
          FROM pg_range r
          JOIN pg_type t ON t.oid = r.rngtypid
          JOIN pg_namespace n ON n.oid = t.typnamespace
          JOIN pg_opclass opc ON opc.oid = r.rngsubopc
          JOIN pg_namespace opn ON opn.oid = opc.opcnamespace
         WHERE r.rngtypid >= ${USER_OID} AND ${userSchema("n")} AND ${notExtensionMember("pg_type", "t.oid")}`,
  sid: ([s, n]) => schemaObjectId("range", s, n),
};

const publications: CatalogQuery = {
  sql: `SELECT 'publication:' || ${q("p.pubname")} AS key, NULL AS on, ARRAY[p.pubname::text] AS parts,
               pg_get_userbyid(p.pubowner)::text AS owner, p.puballtables AS all_tables, p.pubinsert AS insert,
               p.pubupdate AS update, p.pubdelete AS delete, p.pubtruncate AS truncate, p.pubviaroot AS via_root
          FROM pg_publication p WHERE p.oid >= ${USER_OID}`,
  global: true,
  sid: ([p]) => publicationId(p),
};

const publicationTables: CatalogQuery = {
  sql: `SELECT 'publication_rel:' || ${q("p.pubname")} || ':' || ${qn("n.nspname", "c.relname")} AS key,
               'publication:' || ${q("p.pubname")} AS on,
               ARRAY[p.pubname, n.nspname, c.relname]::text[] AS parts, pg_get_expr(pr.prqual, pr.prrelid) AS row_filter,
               (SELECT array_agg(a.attname ORDER BY a.attnum) FROM pg_attribute a
                 WHERE a.attrelid = pr.prrelid AND a.attnum = ANY(pr.prattrs))::text AS columns
          FROM pg_publication_rel pr
          JOIN pg_publication p ON p.oid = pr.prpubid
          JOIN pg_class c ON c.oid = pr.prrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE ${userSchema("n")}`,
  sid: ([p, s, t]) => publicationTableId(p, s, t),
};

const publicationSchemas: CatalogQuery = {
  sql: `SELECT 'publication_schema:' || ${q("p.pubname")} || ':' || ${q("n.nspname")} AS key,
               'publication:' || ${q("p.pubname")} AS on,
               ARRAY[p.pubname, n.nspname]::text[] AS parts
          FROM pg_publication_namespace pn
          JOIN pg_publication p ON p.oid = pn.pnpubid
          JOIN pg_namespace n ON n.oid = pn.pnnspid
         WHERE ${userSchema("n")}`,
  sid: ([p, s]) => publicationSchemaId(p, s),
};

/**
 * ALTER DEFAULT PRIVILEGES, per role, schema (empty: every schema) and object type; the
 * snapshot has one object per grantee of an entry, all changed under the entry's id.
 */
const defaultAcls: CatalogQuery = {
  sql: `SELECT 'default_acl:' || quote_ident(pg_get_userbyid(d.defaclrole)) || ':' || coalesce(quote_ident(n.nspname), '')
               || ':' || d.defaclobjtype::text AS key, NULL AS on,
               ARRAY[pg_get_userbyid(d.defaclrole)::text, coalesce(n.nspname::text, ''), d.defaclobjtype::text] AS parts,
               ${sorted("d.defaclacl")} AS acl
          FROM pg_default_acl d
          LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
         WHERE d.defaclnamespace = 0 OR ${userSchema("n")}`,
  sid: ([role, s, t]) =>
    DEFAULT_ACL_OBJECTS[t] ? defaultAclId(role, s === "" ? null : s, DEFAULT_ACL_OBJECTS[t]) : null,
};

/** SQL: an owner column as the role's name. */
const owner = (col: string) => `pg_get_userbyid(${col})::text`;

/**
 * Other user objects the snapshot does not model (operators, casts, operator classes and
 * families, text search, conversions, languages, transforms, access methods, foreign-data
 * wrappers, servers and user mappings), named by pg_identify_object, with their owner and
 * a definition made of names (never oids, so clusters compare). A user mapping's options
 * may hold a password: they are kept as a hash.
 */
const others: CatalogQuery = {
  sql: `WITH o AS (
          SELECT 'pg_operator'::regclass AS cls, oid, ${owner("oprowner")} AS owner,
                 concat_ws(' ', oprcode::regprocedure, oprrest::regprocedure, oprjoin::regprocedure,
                           oprcom::regoperator, oprnegate::regoperator, oprcanmerge, oprcanhash) AS definition
            FROM pg_operator WHERE oid >= ${USER_OID}
          UNION ALL SELECT 'pg_opclass'::regclass, oid, ${owner("opcowner")},
                 concat_ws(' ', opcdefault, opcintype::regtype, opckeytype::regtype,
                           (SELECT opfname FROM pg_opfamily WHERE oid = opcfamily))
            FROM pg_opclass WHERE oid >= ${USER_OID}
          UNION ALL SELECT 'pg_opfamily'::regclass, f.oid, ${owner("f.opfowner")},
                 concat_ws(' ',
                   (SELECT string_agg(concat_ws(':', amopstrategy, amopopr::regoperator, amoppurpose, amopsortfamily), ','
                                      ORDER BY amopstrategy, amopopr::regoperator::text)
                      FROM pg_amop WHERE amopfamily = f.oid),
                   (SELECT string_agg(concat_ws(':', amprocnum, amproc::regprocedure, amproclefttype::regtype, amprocrighttype::regtype), ','
                                      ORDER BY amprocnum, amproc::regprocedure::text)
                      FROM pg_amproc WHERE amprocfamily = f.oid))
            FROM pg_opfamily f WHERE f.oid >= ${USER_OID}
          UNION ALL SELECT 'pg_cast'::regclass, oid, NULL,
                 concat_ws(' ', castfunc::regprocedure, castcontext, castmethod)
            FROM pg_cast WHERE oid >= ${USER_OID}
          UNION ALL SELECT 'pg_conversion'::regclass, oid, ${owner("conowner")},
                 concat_ws(' ', pg_encoding_to_char(conforencoding), pg_encoding_to_char(contoencoding),
                           conproc::regprocedure, condefault)
            FROM pg_conversion WHERE oid >= ${USER_OID}
          UNION ALL SELECT 'pg_language'::regclass, oid, ${owner("lanowner")},
                 concat_ws(' ', lanpltrusted, lanplcallfoid::regprocedure, laninline::regprocedure,
                           lanvalidator::regprocedure, ${sorted("lanacl")})
            FROM pg_language WHERE oid >= ${USER_OID}
          UNION ALL SELECT 'pg_transform'::regclass, oid, NULL,
                 concat_ws(' ', trffromsql::regprocedure, trftosql::regprocedure)
            FROM pg_transform WHERE oid >= ${USER_OID}
          UNION ALL SELECT 'pg_ts_config'::regclass, c.oid, ${owner("c.cfgowner")},
                 concat_ws(' ', (SELECT prsname FROM pg_ts_parser WHERE oid = c.cfgparser),
                   (SELECT string_agg(maptokentype || ':' || mapdict::regdictionary, ',' ORDER BY maptokentype, mapseqno)
                      FROM pg_ts_config_map WHERE mapcfg = c.oid))
            FROM pg_ts_config c WHERE c.oid >= ${USER_OID}
          UNION ALL SELECT 'pg_ts_dict'::regclass, d.oid, ${owner("d.dictowner")},
                 concat_ws(' ', (SELECT tmplname FROM pg_ts_template WHERE oid = d.dicttemplate), d.dictinitoption)
            FROM pg_ts_dict d WHERE d.oid >= ${USER_OID}
          UNION ALL SELECT 'pg_ts_parser'::regclass, oid, NULL,
                 concat_ws(' ', prsstart::regprocedure, prstoken::regprocedure, prsend::regprocedure,
                           prsheadline::regprocedure, prslextype::regprocedure)
            FROM pg_ts_parser WHERE oid >= ${USER_OID}
          UNION ALL SELECT 'pg_ts_template'::regclass, oid, NULL,
                 concat_ws(' ', tmplinit::regprocedure, tmpllexize::regprocedure)
            FROM pg_ts_template WHERE oid >= ${USER_OID}
          UNION ALL SELECT 'pg_am'::regclass, oid, NULL, concat_ws(' ', amhandler::regprocedure, amtype)
            FROM pg_am WHERE oid >= ${USER_OID}
          UNION ALL SELECT 'pg_foreign_data_wrapper'::regclass, oid, ${owner("fdwowner")},
                 concat_ws(' ', fdwhandler::regprocedure, fdwvalidator::regprocedure, ${sorted("fdwoptions")}, ${sorted("fdwacl")})
            FROM pg_foreign_data_wrapper WHERE oid >= ${USER_OID}
          UNION ALL SELECT 'pg_foreign_server'::regclass, s.oid, ${owner("s.srvowner")},
                 concat_ws(' ', (SELECT fdwname FROM pg_foreign_data_wrapper WHERE oid = s.srvfdw), s.srvtype,
                           s.srvversion, ${sorted("s.srvoptions")}, ${sorted("s.srvacl")})
            FROM pg_foreign_server s WHERE s.oid >= ${USER_OID}
          UNION ALL SELECT 'pg_user_mapping'::regclass, oid, NULL, md5(coalesce(${sorted("umoptions")}, ''))
            FROM pg_user_mapping WHERE oid >= ${USER_OID}
        )
        SELECT 'object:' || i.type || ' ' || i.identity AS key, NULL AS on, ARRAY[]::text[]::text[] AS parts,
               o.owner, o.definition
          FROM o, pg_identify_object(o.cls, o.oid, 0) i
         WHERE NOT EXISTS (SELECT 1 FROM pg_depend xd WHERE xd.classid = o.cls AND xd.objid = o.oid AND xd.deptype IN ('e', 'i'))
           AND (i.schema IS NULL OR (i.schema NOT LIKE 'pg\\_%' AND i.schema <> ALL($1::text[])))`,
  sid: () => null,
};

export const OBJECT_QUERIES: CatalogQuery[] = [
  schemas,
  extensions,
  collations,
  eventTriggers,
  functions,
  types,
  ranges,
  publications,
  publicationTables,
  publicationSchemas,
  defaultAcls,
  others,
];
