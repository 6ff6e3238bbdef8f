import type pg from "pg";
import { BoughError } from "../core/errors.ts";
import { ensureBookkeeping } from "./bookkeeping.ts";
import type { TablePolicy } from "./catalog/snapshot.ts";
import { PRIMARY_KEY_OF_C } from "./introspect/data.ts";
import { setPolicySql } from "./render/sql/data.ts";

export const TABLE_POLICIES: TablePolicy["policy"][] = ["upsert", "merge-rows", "ignore"];

/** A table's columns and primary key, by "S.T" split at its first dot (no schema: public). */
async function tableShape(
  client: pg.ClientBase,
  table: string,
): Promise<{ name: string; columns: string[]; pk: string[] | null }> {
  const dot = table.indexOf(".");
  const [schema, name] = dot < 0 ? ["public", table] : [table.slice(0, dot), table.slice(dot + 1)];
  const { rows } = await client.query<{ columns: string[]; pk: string[] | null }>(
    `SELECT array(SELECT a.attname::text FROM pg_attribute a
                   WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                   ORDER BY a.attnum) AS columns,
            ${PRIMARY_KEY_OF_C} AS pk
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`,
    [schema, name],
  );
  if (!rows[0]) {
    throw new BoughError(
      "INVALID_INPUT",
      `table ${schema}.${name} does not exist`,
      "create the table first; name it SCHEMA.TABLE",
    );
  }
  return { name: `${schema}.${name}`, ...rows[0] };
}

/**
 * Sets a table's merge policy in bough.table_policies, checked against the table as it is:
 * merge-rows needs a primary key (its key is the primary key), upsert key columns that
 * exist, and no key column excluded.
 */
export async function setTablePolicy(
  client: pg.ClientBase,
  o: { table: string; policy: string; key?: string[]; exclude?: string[] },
): Promise<TablePolicy> {
  if (!(TABLE_POLICIES as string[]).includes(o.policy)) {
    throw new BoughError(
      "INVALID_INPUT",
      `unknown table policy "${o.policy}"`,
      `use one of: ${TABLE_POLICIES.join(", ")}`,
    );
  }
  const policy = o.policy as TablePolicy["policy"];
  const t = await tableShape(client, o.table);
  const excluded = [...new Set(o.exclude ?? [])].sort();
  let key = o.key ?? [];
  const refuse = (why: string, hint: string): never => {
    throw new BoughError("INVALID_INPUT", `cannot set ${policy} on ${t.name}: ${why}`, hint);
  };
  if (policy === "merge-rows") {
    if (!t.pk)
      refuse(
        "it has no primary key",
        "merge-rows matches rows by primary key: add one (ALTER TABLE … ADD PRIMARY KEY), or use upsert --key COLS",
      );
    const pk = t.pk as string[];
    if (key.length > 0 && [...key].sort().join(",") !== [...pk].sort().join(","))
      refuse(
        `--key ${key.join(",")} is not its primary key (${pk.join(", ")})`,
        "leave --key out: merge-rows uses the primary key",
      );
    key = pk;
  }
  if (policy === "upsert" && key.length === 0)
    refuse("upsert needs key columns", "name them with --key COL[,COL]");
  if (policy === "ignore") key = [];
  const unknown = [...key, ...excluded].filter((c) => !t.columns.includes(c));
  if (unknown.length > 0)
    refuse(`no column ${unknown.join(", ")}`, `its columns: ${t.columns.join(", ")}`);
  const secretKey = key.filter((c) => excluded.includes(c));
  if (secretKey.length > 0)
    refuse(`key column ${secretKey.join(", ")} is excluded`, "a key column is never excluded");
  const set: TablePolicy = { table: t.name, policy, key, excluded };
  await ensureBookkeeping(client);
  await client.query(setPolicySql(set));
  return set;
}

/** Every row of bough.table_policies, by table name (the bookkeeping schema must exist). */
export async function listTablePolicies(client: pg.ClientBase): Promise<TablePolicy[]> {
  const { rows } = await client.query<{
    table: string;
    policy: TablePolicy["policy"];
    key: string[];
    excluded: string[];
  }>(
    `SELECT table_name AS table, policy, key_columns AS key, excluded_columns AS excluded
       FROM bough.table_policies`,
  );
  return rows.sort((a, b) => (a.table < b.table ? -1 : a.table > b.table ? 1 : 0));
}
