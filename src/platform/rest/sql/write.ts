import type { Level, ParsedQuery, Preferences } from "../ast.ts";
import { RestError, unknownPayloadColumn } from "../errors.ts";
import type { Relation } from "../schema-cache.ts";
import { conditionsSql } from "./conditions.ts";
import { fieldSql, type Params, qi, qualified } from "./params.ts";

/** Rows of a POST body: an object is one row, an array many; anything else is PGRST102. */
export function payloadRows(body: unknown): Record<string, unknown>[] {
  const rows = Array.isArray(body) ? body : [body];
  if (rows.some((r) => typeof r !== "object" || r === null || Array.isArray(r)))
    throw invalidBody("each row must be a JSON object");
  return rows as Record<string, unknown>[];
}

export const invalidBody = (details: string) =>
  new RestError({ status: 400, code: "PGRST102", message: "Empty or invalid json", details });

/** The payload columns: `columns=` if given, else every key of every row; each must exist. */
export function payloadColumns(
  rel: Relation,
  rows: Record<string, unknown>[],
  columns?: string[],
): string[] {
  const names = columns ?? [...new Set(rows.flatMap((r) => Object.keys(r)))];
  for (const name of names) if (!rel.columns.has(name)) throw unknownPayloadColumn(rel.name, name);
  return names;
}

/**
 * INSERT as a CTE `pgrst_source`, the rows read from the body with json_populate_recordset
 * (one parameter, Postgres converts each value to its column's type). With missing=default a
 * key absent from a row takes the column default: VALUES rows with DEFAULT in its place.
 * Upserts add ON CONFLICT on `on_conflict=` or the primary key.
 */
export function insertSql(o: {
  rel: Relation;
  rows: Record<string, unknown>[];
  query: ParsedQuery;
  prefer: Preferences;
  p: Params;
}): string {
  const { rel, rows, p } = o;
  const cols = payloadColumns(rel, rows, o.query.columns);
  const target = qualified(rel);
  const list = cols.map(qi).join(", ");
  let source: string;
  if (cols.length === 0) {
    source = `${target} SELECT FROM json_array_elements(${p.add(JSON.stringify(rows))}::json)`;
  } else if (o.prefer.missing === "default") {
    const values = rows.map((row) => {
      const rec = `json_populate_record(NULL::${target}, ${p.add(JSON.stringify(row))}::json)`;
      return `(${cols.map((c) => (Object.hasOwn(row, c) ? `(${rec}).${qi(c)}` : "DEFAULT")).join(", ")})`;
    });
    source = `${target} (${list}) VALUES ${values.join(", ")}`;
  } else {
    source = `${target} (${list}) SELECT ${list} FROM json_populate_recordset(NULL::${target}, ${p.add(JSON.stringify(rows))}::json)`;
  }
  return `INSERT INTO ${source}${onConflictSql(rel, cols, o.query, o.prefer)} RETURNING ${target}.*`;
}

function onConflictSql(rel: Relation, cols: string[], q: ParsedQuery, prefer: Preferences): string {
  if (!prefer.resolution) return "";
  const keys = q.onConflict ?? rel.pk;
  if (keys.length === 0) {
    throw new RestError({
      status: 400,
      code: "42P10",
      message: "there is no unique or exclusion constraint matching the ON CONFLICT specification",
      details: `'${rel.name}' has no primary key`,
      hint: "Pass on_conflict= with the columns of a unique constraint",
    });
  }
  for (const k of keys) if (!rel.columns.has(k)) throw unknownPayloadColumn(rel.name, k);
  const conflict = ` ON CONFLICT (${keys.map(qi).join(", ")})`;
  const updates = cols.filter((c) => !keys.includes(c));
  if (prefer.resolution === "ignore-duplicates" || updates.length === 0)
    return `${conflict} DO NOTHING`;
  return `${conflict} DO UPDATE SET ${updates.map((c) => `${qi(c)} = EXCLUDED.${qi(c)}`).join(", ")}`;
}

/** WHERE of a mutation on its table (alias "t0"); a limit (with order) goes through ctid. */
function mutationWhere(p: Params, rel: Relation, level: Level | undefined): string {
  const where = conditionsSql(p, rel, "t0", level?.conditions ?? []);
  if (level?.limit !== undefined) {
    if (rel.kind !== "table")
      throw new RestError({
        status: 400,
        code: "PGRST128",
        message: "limit on a PATCH or DELETE needs a table, not a view",
      });
    const order = level.order.map(
      (t) => `${fieldSql(p, rel, "t0", t.field)} ${t.desc ? "DESC" : "ASC"}`,
    );
    const inner = `SELECT "t0".ctid FROM ${qualified(rel)} AS "t0"${where.length > 0 ? ` WHERE ${where.join(" AND ")}` : ""}${order.length > 0 ? ` ORDER BY ${order.join(", ")}` : ""} LIMIT ${p.add(level.limit)}${level.offset ? ` OFFSET ${p.add(level.offset)}` : ""}`;
    where.push(`"t0".ctid = ANY(ARRAY(${inner}))`);
  }
  return where.length > 0 ? ` WHERE ${where.join(" AND ")}` : "";
}

/** UPDATE of the body's columns on the rows the filters select. */
export function updateSql(o: {
  rel: Relation;
  row: Record<string, unknown>;
  query: ParsedQuery;
  p: Params;
}): string {
  const { rel, p } = o;
  const cols = payloadColumns(rel, [o.row], o.query.columns);
  const target = qualified(rel);
  const set = cols.map((c) => `${qi(c)} = _b.${qi(c)}`).join(", ");
  const body = `(SELECT * FROM json_populate_record(NULL::${target}, ${p.add(JSON.stringify(o.row))}::json)) AS _b`;
  return `UPDATE ${target} AS "t0" SET ${set} FROM ${body}${mutationWhere(p, rel, o.query.levels.get(""))} RETURNING "t0".*`;
}

export function deleteSql(o: { rel: Relation; query: ParsedQuery; p: Params }): string {
  return `DELETE FROM ${qualified(o.rel)} AS "t0"${mutationWhere(o.p, o.rel, o.query.levels.get(""))} RETURNING "t0".*`;
}
