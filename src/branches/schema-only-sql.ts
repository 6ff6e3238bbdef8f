import type pg from "pg";

// The catalog queries of schema-only emptying, one database at a time. Every statement
// they build names objects through format('%I'), so no name reaches SQL unquoted.

/** User schemas: not the catalogs, not pg_toast/pg_temp_*, not bough's own bookkeeping. */
const USER_SCHEMA = `n.nspname NOT IN ('pg_catalog', 'information_schema', 'bough') AND n.nspname !~ '^pg_'`;
/** Members of an extension: CREATE EXTENSION recreates them, as pg_dump assumes. */
const NOT_EXTENSION_MEMBER = `NOT EXISTS (SELECT 1 FROM pg_depend e
  WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e')`;

/** Oids of the tables named in a bookkeeping table, or [] when bough is not set up here. */
async function registered(client: pg.ClientBase, sql: string, table: string): Promise<number[]> {
  const { rows } = await client.query<{ ok: boolean }>("SELECT to_regclass($1) IS NOT NULL AS ok", [
    table,
  ]);
  if (!rows[0]?.ok) return [];
  return (await client.query<{ oid: number }>(sql)).rows.map((r) => r.oid);
}

/**
 * Config and reference tables that keep their rows: upsert or merge-rows policy in bough.table_policies, with their
 * partitions (a partition's rows are its table's), minus registered user-data tables.
 */
export async function keptTables(
  client: pg.ClientBase,
): Promise<{ kept: number[]; userData: number[] }> {
  const userData = await registered(
    client,
    `SELECT to_regclass(table_name)::oid AS oid FROM bough.user_data_tables
      WHERE to_regclass(table_name) IS NOT NULL`,
    "bough.user_data_tables",
  );
  const upsert = await registered(
    client,
    `SELECT to_regclass(table_name)::oid AS oid FROM bough.table_policies
      WHERE policy IN ('upsert', 'merge-rows') AND to_regclass(table_name) IS NOT NULL`,
    "bough.table_policies",
  );
  const { rows } = await client.query<{ oid: number }>(
    `SELECT DISTINCT t.oid FROM (
       SELECT k AS oid FROM unnest($1::oid[]) k
       UNION SELECT p.relid::oid FROM unnest($1::oid[]) k, LATERAL pg_partition_tree(k::regclass) p
     ) t WHERE t.oid <> ALL($2::oid[])`,
    [upsert, userData],
  );
  return { kept: rows.map((r) => r.oid), userData };
}

/**
 * TRUNCATE targets: every table of every user schema (unlogged ones, partitions and
 * inheritance children each listed with ONLY, so a kept table is never emptied through its
 * parent), plus registered user-data tables wherever they are (a partitioned one whole).
 * Partitioned tables hold no rows themselves; foreign tables are not ours to empty.
 */
export async function truncateTargets(
  client: pg.ClientBase,
  o: { kept: number[]; userData: number[] },
): Promise<string[]> {
  const { rows } = await client.query<{ target: string }>(
    `SELECT format(CASE c.relkind WHEN 'p' THEN '%I.%I' ELSE 'ONLY %I.%I' END, n.nspname, c.relname) AS target
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND c.relpersistence <> 't'
        AND (c.oid = ANY($2::oid[])
             OR (c.relkind = 'r' AND ${USER_SCHEMA} AND ${NOT_EXTENSION_MEMBER}
                 AND c.oid <> ALL($1::oid[])))
      ORDER BY 1`,
    [o.kept, o.userData],
  );
  return rows.map((r) => r.target);
}

/**
 * The user part of extension config tables, as pg_dump defines it: the rows matching the
 * condition the extension registered (pg_extension_config_dump; '' is every row), and the
 * state of registered sequences. The extension's own rows stay, as CREATE EXTENSION made them.
 * The condition is the extension script's SQL text, run as pg_dump runs it.
 */
export async function extensionConfigData(
  client: pg.ClientBase,
): Promise<{ tables: { name: string; where: string }[]; sequences: string[] }> {
  const { rows } = await client.query<{ name: string; relkind: string; cond: string }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS name, c.relkind::text AS relkind,
            coalesce(u.cond, '') AS cond
       FROM pg_extension x
       CROSS JOIN LATERAL unnest(x.extconfig, x.extcondition) AS u(cfg, cond)
       JOIN pg_class c ON c.oid = u.cfg JOIN pg_namespace n ON n.oid = c.relnamespace
      ORDER BY 1`,
  );
  return {
    tables: rows.filter((r) => r.relkind === "r").map((r) => ({ name: r.name, where: r.cond })),
    sequences: rows.filter((r) => r.relkind === "S").map((r) => `ALTER SEQUENCE ${r.name} RESTART`),
  };
}

/**
 * Sequences to restart: every user sequence (serial, identity, standalone) except those a
 * kept table owns or draws its defaults from (its rows stay, so must its counter).
 */
export async function sequencesToRestart(client: pg.ClientBase, kept: number[]): Promise<string[]> {
  const { rows } = await client.query<{ stmt: string }>(
    `SELECT format('ALTER SEQUENCE %I.%I RESTART', n.nspname, c.relname) AS stmt
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'S' AND ${USER_SCHEMA} AND ${NOT_EXTENSION_MEMBER}
        AND NOT EXISTS (SELECT 1 FROM pg_depend d
              WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
                AND d.refobjid = ANY($1::oid[]))
        AND NOT EXISTS (SELECT 1 FROM pg_depend d JOIN pg_attrdef ad ON ad.oid = d.objid
              WHERE d.classid = 'pg_attrdef'::regclass AND d.refclassid = 'pg_class'::regclass
                AND d.refobjid = c.oid AND ad.adrelid = ANY($1::oid[]))
      ORDER BY 1`,
    [kept],
  );
  return rows.map((r) => r.stmt);
}

/** Materialized views of user schemas, oldest first (usually their dependency order). */
export async function materializedViews(client: pg.ClientBase): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS name
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'm' AND ${USER_SCHEMA} AND ${NOT_EXTENSION_MEMBER}
      ORDER BY c.oid`,
  );
  return rows.map((r) => r.name);
}

/**
 * Catalog rows that copy user values: column statistics (most common values, histogram
 * bounds) and extended statistics (MCV lists) of every non-catalog relation, and every
 * large object. Returns how many large objects were removed.
 */
export async function clearCatalogData(client: pg.ClientBase): Promise<number> {
  await client.query(
    `DELETE FROM pg_catalog.pg_statistic s
       USING pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE s.starelid = c.oid AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')`,
  );
  await client.query("DELETE FROM pg_catalog.pg_statistic_ext_data");
  const { rows } = await client.query<{ n: number }>(
    "SELECT count(lo_unlink(oid))::int AS n FROM pg_catalog.pg_largeobject_metadata",
  );
  // Deleted tuples keep their bytes in the pages until the table is rewritten.
  await client.query(
    `VACUUM FULL pg_catalog.pg_statistic, pg_catalog.pg_statistic_ext_data,
       pg_catalog.pg_largeobject, pg_catalog.pg_largeobject_metadata`,
  );
  return rows[0]?.n ?? 0;
}
