import { parse } from "libpg-query";
import type pg from "pg";
import { BoughError } from "../../core/errors.ts";
import { quoteIdent } from "../../core/names.ts";
import { ensureBookkeeping } from "../../merge/bookkeeping.ts";
import {
  columnLabel,
  type ForeignKeyColumns,
  type MaskColumn,
  type MaskRule,
  parseRule,
  RULE_SYNTAX,
  renderRule,
  ruleMisfit,
} from "./rules.ts";

/**
 * Masking rules are config in the branch's own bookkeeping schema: a rule set on a branch
 * merges into its parent like any config (upsert by column), a clone carries its parent's
 * rules, and `bough branch create --mask` applies the ones the clone holds.
 */
export const MASK_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS bough.mask_rules (
  schema_name text NOT NULL,
  table_name text NOT NULL,
  column_name text NOT NULL,
  rule text NOT NULL,
  PRIMARY KEY (schema_name, table_name, column_name)
);
INSERT INTO bough.table_policies (table_name, policy, key_columns, excluded_columns) VALUES
  ('bough.mask_rules', 'upsert', '{schema_name,table_name,column_name}', '{}')
ON CONFLICT (table_name) DO NOTHING;
`;

export async function ensureMaskSchema(client: pg.ClientBase): Promise<void> {
  await ensureBookkeeping(client);
  await client.query(MASK_SCHEMA_SQL);
}

export interface StoredRule {
  schema: string;
  table: string;
  column: string;
  rule: string;
}

/** "S.T.C" split into its names: schema and table without dots, the column the rest. */
export function splitColumnName(name: string): { schema: string; table: string; column: string } {
  const parts = name.split(".");
  if (parts.length < 3 || parts.some((p) => p === "")) {
    throw new BoughError(
      "INVALID_INPUT",
      `"${name}" is not SCHEMA.TABLE.COLUMN`,
      "name the column with its schema and table, e.g. public.users.email",
    );
  }
  return { schema: parts[0], table: parts[1], column: parts.slice(2).join(".") };
}

export async function listMaskRules(client: pg.ClientBase): Promise<StoredRule[]> {
  const { rows } = await client.query<StoredRule>(
    `SELECT schema_name AS schema, table_name AS "table", column_name AS column, rule
       FROM bough.mask_rules ORDER BY 1, 2, 3`,
  );
  return rows;
}

/** The column as a rule sees it, or null when the table (or column) does not exist. */
export async function maskColumn(
  client: pg.ClientBase,
  at: { schema: string; table: string; column: string },
): Promise<MaskColumn | { missing: "table" | "column" }> {
  const { rows } = await client.query<MaskColumn & { found: boolean }>(
    `SELECT a.attname IS NOT NULL AS found,
            format_type(a.atttypid, a.atttypmod) AS "typeSql", bt.typname::text AS "baseType",
            bt.typcategory::text AS category, bt.typcategory = 'A' AS "isArray",
            CASE WHEN bt.typname IN ('varchar', 'bpchar') AND coalesce(nullif(t.typtypmod, -1), a.atttypmod) > 4
                 THEN coalesce(nullif(t.typtypmod, -1), a.atttypmod) - 4 END AS "maxLength",
            a.attnotnull OR t.typnotnull AS "notNull", a.attgenerated <> '' AS generated,
            EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisunique
                     AND i.indnkeyatts = 1 AND i.indkey[0] = a.attnum) AS "unique"
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = $3 AND a.attnum > 0 AND NOT a.attisdropped
       LEFT JOIN pg_type t ON t.oid = a.atttypid
       LEFT JOIN pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
      WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`,
    [at.schema, at.table, at.column],
  );
  const r = rows[0];
  if (!r) return { missing: "table" };
  if (!r.found) return { missing: "column" };
  return {
    ...at,
    typeSql: r.typeSql,
    baseType: r.baseType,
    category: r.category,
    isArray: r.isArray,
    maxLength: r.maxLength === null ? null : Number(r.maxLength),
    notNull: r.notNull,
    unique: r.unique,
    generated: r.generated,
  };
}

/**
 * Parses a rule and checks it against the column on this database: the column must exist
 * in a table of a user schema, the fake must fit its type, and the UPDATE that applies it
 * must plan (EXPLAIN, nothing runs): a sql: expression's syntax and types are Postgres'.
 */
export async function checkMaskRule(
  client: pg.ClientBase,
  at: { schema: string; table: string; column: string },
  ruleText: string,
): Promise<{ rule: MaskRule; column: MaskColumn }> {
  const label = columnLabel(at);
  if (
    ["bough", "pg_catalog", "information_schema"].includes(at.schema) ||
    at.schema.startsWith("pg_")
  ) {
    throw new BoughError(
      "INVALID_INPUT",
      `${label}: schema ${at.schema} is not user data`,
      "mask columns of your own tables (or auth's)",
    );
  }
  const rule = parseRule(ruleText);
  const column = await maskColumn(client, at);
  if ("missing" in column) {
    throw new BoughError(
      "INVALID_INPUT",
      column.missing === "table"
        ? `table ${at.schema}.${at.table} does not exist on this branch`
        : `table ${at.schema}.${at.table} has no column "${at.column}"`,
      "name an existing column as SCHEMA.TABLE.COLUMN (see `bough branch show` for the connection string)",
    );
  }
  // A config table's rows are merged into the parent: its fakes would overwrite the real values.
  const config = await client.query(
    `SELECT 1 FROM bough.table_policies WHERE table_name = $1 AND policy = 'upsert'
        AND table_name NOT IN (SELECT table_name FROM bough.user_data_tables)`,
    [`${at.schema}.${at.table}`],
  );
  if (config.rows.length > 0) {
    throw new BoughError(
      "INVALID_INPUT",
      `${at.schema}.${at.table} is a config table (upsert policy in bough.table_policies): a merge would carry its fakes into the parent`,
      "mask columns of data tables only",
    );
  }
  const misfit = ruleMisfit(rule, column);
  if (misfit)
    throw new BoughError(
      "INVALID_INPUT",
      misfit,
      `pick a rule that fits the column: ${RULE_SYNTAX}`,
    );
  const expr = renderRule(rule, column);
  if (rule.kind === "sql") await requireOneExpression(label, expr);
  await client.query("SAVEPOINT mask_check");
  try {
    await client.query(
      `EXPLAIN UPDATE ${quoteIdent(at.schema)}.${quoteIdent(at.table)} SET ${quoteIdent(at.column)} = ${expr}
        WHERE $1::bytea IS NOT NULL AND $2::bytea IS NOT NULL`,
      [Buffer.alloc(64), Buffer.alloc(64)],
    );
  } catch (err) {
    throw new BoughError(
      "INVALID_INPUT",
      `rule ${ruleText} cannot mask ${label} (${column.typeSql}): ${(err as Error).message}`,
      "a sql: expression must give a value of the column's type; {{value}} is the column, {{hash}} its keyed hash (hex)",
    );
  } finally {
    await client.query("ROLLBACK TO SAVEPOINT mask_check");
  }
  return { rule, column };
}

/** A sql: rule is one scalar expression: nothing that ends the statement or adds clauses to it. */
async function requireOneExpression(label: string, expr: string): Promise<void> {
  const refuse = (why: string) =>
    new BoughError(
      "INVALID_INPUT",
      `the sql: rule of ${label} is not one expression: ${why}`,
      "write one SQL expression, e.g. sql:md5({{value}})",
    );
  let stmts: { stmt?: unknown }[];
  try {
    stmts = (await parse(`SELECT ${expr}`)).stmts ?? [];
  } catch (err) {
    throw refuse((err as Error).message);
  }
  const only = stmts.length === 1 ? (stmts[0].stmt as Record<string, unknown>) : undefined;
  const select = only?.SelectStmt as Record<string, unknown> | undefined;
  const clauses = select
    ? Object.keys(select).filter((k) => !["targetList", "limitOption", "op"].includes(k))
    : [];
  const targets = select?.targetList as unknown[] | undefined;
  if (!select || targets?.length !== 1 || clauses.length > 0) {
    throw refuse("it reads as more than a single value");
  }
}

export async function setMaskRule(client: pg.ClientBase, at: StoredRule): Promise<void> {
  await client.query(
    `INSERT INTO bough.mask_rules (schema_name, table_name, column_name, rule) VALUES ($1, $2, $3, $4)
     ON CONFLICT (schema_name, table_name, column_name) DO UPDATE SET rule = excluded.rule`,
    [at.schema, at.table, at.column, at.rule],
  );
}

export async function unsetMaskRule(
  client: pg.ClientBase,
  at: { schema: string; table: string; column: string },
): Promise<boolean> {
  const r = await client.query(
    "DELETE FROM bough.mask_rules WHERE schema_name = $1 AND table_name = $2 AND column_name = $3",
    [at.schema, at.table, at.column],
  );
  return (r.rowCount ?? 0) > 0;
}

/** Every foreign key of the database, one entry per column pair. */
export async function foreignKeyColumns(client: pg.ClientBase): Promise<ForeignKeyColumns[]> {
  const { rows } = await client.query<{
    name: string;
    fs: string;
    ft: string;
    fc: string;
    ts: string;
    tt: string;
    tc: string;
  }>(
    `SELECT k.conname AS name, fn.nspname AS fs, fr.relname AS ft, fa.attname AS fc,
            tn.nspname AS ts, tr.relname AS tt, ta.attname AS tc
       FROM pg_constraint k CROSS JOIN LATERAL unnest(k.conkey, k.confkey) AS u(f, t)
       JOIN pg_class fr ON fr.oid = k.conrelid JOIN pg_namespace fn ON fn.oid = fr.relnamespace
       JOIN pg_attribute fa ON fa.attrelid = k.conrelid AND fa.attnum = u.f
       JOIN pg_class tr ON tr.oid = k.confrelid JOIN pg_namespace tn ON tn.oid = tr.relnamespace
       JOIN pg_attribute ta ON ta.attrelid = k.confrelid AND ta.attnum = u.t
      WHERE k.contype = 'f' AND fr.relispartition = false
      ORDER BY 1, 2, 3, 4`,
  );
  return rows.map((r) => ({
    name: r.name,
    from: { schema: r.fs, table: r.ft, column: r.fc },
    to: { schema: r.ts, table: r.tt, column: r.tc },
  }));
}
