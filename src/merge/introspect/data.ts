import type pg from "pg";
import { BoughError } from "../../core/errors.ts";
import { quoteIdent } from "../../core/names.ts";
import { type DataTable, MERGE_ROWS_LIMIT, type TablePolicy } from "../catalog/snapshot.ts";

interface PolicyRow {
  table_name: string;
  policy: TablePolicy["policy"];
  key_columns: string[];
  excluded_columns: string[];
  schema: string | null;
  name: string | null;
  columns: string[] | null;
  /** Primary key columns in index order; null without one. */
  pk: string[] | null;
}

export interface DataLayer {
  policies: Record<string, TablePolicy>;
  data: Record<string, DataTable>;
}

/** The primary key columns (index order) of the relation aliased `c`, or NULL: a SELECT-list expression. */
export const PRIMARY_KEY_OF_C = `(SELECT array_agg(a.attname::text ORDER BY k.n)
   FROM pg_index x, unnest(x.indkey) WITH ORDINALITY k(attnum, n)
   JOIN pg_attribute a ON a.attnum = k.attnum
  WHERE x.indrelid = c.oid AND x.indisprimary AND a.attrelid = c.oid)`;

/**
 * The data layer: merge policies from bough.table_policies, and the rows of every table
 * whose policy is upsert or merge-rows, values as text, keyed by JSON.stringify(key values). Excluded
 * columns (secret values) are never selected. A table named in the policy table is data,
 * so it is matched against the catalog and quoted, never pasted.
 */
export async function readDataLayer(client: pg.ClientBase): Promise<DataLayer> {
  const exists = await client.query<{ ok: boolean }>(
    "SELECT to_regclass('bough.table_policies') IS NOT NULL AS ok",
  );
  if (!exists.rows[0].ok) return { policies: {}, data: {} };
  // "S.T" is split at each dot in turn and looked up by name (indexed); "a.b.c" could
  // split two ways, the shortest schema name wins, always the same.
  const { rows } = await client.query<PolicyRow>(
    `SELECT p.table_name, p.policy, p.key_columns, p.excluded_columns, t.schema, t.name, t.columns, t.pk
       FROM bough.table_policies p
       LEFT JOIN LATERAL (
         SELECT n.nspname::text AS schema, c.relname::text AS name,
                array(SELECT a.attname::text FROM pg_attribute a
                       WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                       ORDER BY a.attnum) AS columns,
                ${PRIMARY_KEY_OF_C} AS pk
           FROM generate_series(1, length(p.table_name)) i
           JOIN pg_namespace n ON n.nspname = left(p.table_name, i - 1)
           JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = substr(p.table_name, i + 1)
          WHERE substr(p.table_name, i, 1) = '.' AND c.relkind IN ('r', 'p')
          ORDER BY i LIMIT 1) t ON true`,
  );
  const policies: Record<string, TablePolicy> = {};
  const data: Record<string, DataTable> = {};
  // Sorted here, not by ORDER BY: the database's collation must not decide key order.
  rows.sort((a, b) => (a.table_name < b.table_name ? -1 : a.table_name > b.table_name ? 1 : 0));
  for (const r of rows) {
    const policy: TablePolicy = {
      table: r.table_name,
      policy: r.policy,
      key: r.key_columns,
      excluded: [...r.excluded_columns].sort(),
    };
    policies[r.table_name] = policy;
    // A policy for a table that does not exist (yet, or any more) has no rows to merge.
    if (r.policy === "ignore" || r.schema === null || r.name === null || r.columns === null)
      continue;
    const at = { schema: r.schema, name: r.name, columns: r.columns };
    if (r.policy === "upsert") {
      data[r.table_name] = await readRows(client, { ...at, policy });
      continue;
    }
    const refused = mergeRowsRefusal(policy, r.pk);
    const empty = { table: r.table_name, key: r.pk ?? [], excluded: policy.excluded, columns: [] };
    data[r.table_name] = refused
      ? { ...empty, rows: {}, refused }
      : await readRows(client, {
          ...at,
          policy: { ...policy, key: r.pk ?? [] },
          limit: MERGE_ROWS_LIMIT,
        });
  }
  return { policies, data };
}

/** Why a merge-rows table's rows cannot be merged (read as data, so T0 is taken anyway). */
function mergeRowsRefusal(policy: TablePolicy, pk: string[] | null): string | undefined {
  if (!pk) return "it has no primary key (merge-rows matches rows by primary key)";
  const same = [...policy.key].sort().join("\u0000") === [...pk].sort().join("\u0000");
  if (policy.key.length > 0 && !same)
    return `its key_columns (${policy.key.join(", ")}) are not its primary key (${pk.join(", ")})`;
  const secretKey = pk.filter((k) => policy.excluded.includes(k));
  if (secretKey.length > 0) return `its primary key column(s) ${secretKey.join(", ")} are excluded`;
  return undefined;
}

async function readRows(
  client: pg.ClientBase,
  o: { policy: TablePolicy; schema: string; name: string; columns: string[]; limit?: number },
): Promise<DataTable> {
  const { policy } = o;
  checkPolicy(policy, o.columns);
  const excluded = new Set(policy.excluded);
  const columns = o.columns.filter((c) => !excluded.has(c)).sort();
  const keyAt = policy.key.map((k) => columns.indexOf(k));
  const select = columns.map((c) => `${quoteIdent(c)}::text`).join(", ");
  const { rows } = await client.query<string[]>({
    text: `SELECT ${select} FROM ${quoteIdent(o.schema)}.${quoteIdent(o.name)}${o.limit ? ` LIMIT ${o.limit + 1}` : ""}`,
    rowMode: "array",
  });
  const table = { table: policy.table, key: policy.key, excluded: policy.excluded, columns };
  if (o.limit && rows.length > o.limit)
    return { ...table, rows: {}, refused: `it has more than ${o.limit} rows` };
  const keyed: [string, Record<string, string | null>][] = rows.map((values) => {
    const row: Record<string, string | null> = {};
    columns.forEach((c, i) => {
      row[c] = values[i];
    });
    return [JSON.stringify(keyAt.map((i) => values[i])), row];
  });
  keyed.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const out: Record<string, Record<string, string | null>> = {};
  for (const [key, row] of keyed) {
    if (key in out) {
      throw new BoughError(
        "INVALID_INPUT",
        `table ${policy.table} has two rows with key ${key}`,
        "an upsert policy needs key columns that are unique: fix key_columns in bough.table_policies",
      );
    }
    out[key] = row;
  }
  return { ...table, rows: out };
}

function checkPolicy(policy: TablePolicy, columns: string[]): void {
  const bad = policy.key.length === 0 ? ["(none)"] : policy.key.filter((k) => !columns.includes(k));
  const excludedKey = policy.key.filter((k) => policy.excluded.includes(k));
  if (bad.length > 0 || excludedKey.length > 0) {
    throw new BoughError(
      "INVALID_INPUT",
      `upsert policy of ${policy.table} has unusable key columns: ${[...bad, ...excludedKey].join(", ")}`,
      "key_columns in bough.table_policies must name existing, non-excluded columns of the table",
    );
  }
}
