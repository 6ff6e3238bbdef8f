import type { Level, ParsedQuery, SelectItem } from "../ast.ts";
import { RestError } from "../errors.ts";
import { fieldKey } from "../parse-text.ts";
import { castTypeOf, type Relation, relationshipFor, type SchemaCache } from "../schema-cache.ts";
import { conditionsSql } from "./conditions.ts";
import { fieldSql, type Params, qi, qualified } from "./params.ts";

/** State of building one statement: aliases are numbered, levels used are recorded. */
export interface ReadCtx {
  cache: SchemaCache;
  p: Params;
  levels: Map<string, Level>;
  used: Set<string>;
  next: number;
}

interface Join {
  sql: string;
  /** !inner: it removes parent rows, so a count must include it. */
  inner: boolean;
}

/** One level of the embedding tree as SQL pieces over `alias`. */
export interface LevelSql {
  list: string[];
  joins: Join[];
  where: string[];
  orderBy: string;
  limit: string;
}

/** The select list, joins, conditions, order and limit of one level. */
export function levelSql(
  ctx: ReadCtx,
  o: {
    rel: Relation;
    alias: string;
    select: SelectItem[];
    path: string[];
    /** The root's conditions may be a mutation's; its limit is combined with Range by readSql. */
    conditions?: boolean;
    limit?: boolean;
  },
): LevelSql {
  const key = o.path.join(".");
  ctx.used.add(key);
  const level = ctx.levels.get(key);
  const out: LevelSql = { list: [], joins: [], where: [], orderBy: "", limit: "" };
  for (const item of o.select) selectItem(ctx, out, o.rel, o.alias, o.path, item);
  if (!level) return out;
  if (o.conditions !== false)
    out.where.push(...conditionsSql(ctx.p, o.rel, o.alias, level.conditions));
  if (level.order.length > 0) {
    const terms = level.order.map((t) => {
      const nulls = t.nulls ? ` NULLS ${t.nulls === "first" ? "FIRST" : "LAST"}` : "";
      return `${fieldSql(ctx.p, o.rel, o.alias, t.field)} ${t.desc ? "DESC" : "ASC"}${nulls}`;
    });
    out.orderBy = ` ORDER BY ${terms.join(", ")}`;
  }
  if (o.limit !== false) out.limit = limitSql(ctx.p, level.limit, level.offset);
  return out;
}

export const limitSql = (p: Params, limit?: number, offset?: number): string =>
  (limit !== undefined ? ` LIMIT ${p.add(limit)}` : "") +
  (offset ? ` OFFSET ${p.add(offset)}` : "");

function selectItem(
  ctx: ReadCtx,
  out: LevelSql,
  rel: Relation,
  alias: string,
  path: string[],
  item: SelectItem,
): void {
  switch (item.kind) {
    case "star":
      for (const col of rel.columns.values()) out.list.push(`${qi(alias)}.${qi(col.name)}`);
      return;
    case "column": {
      let sql = fieldSql(ctx.p, rel, alias, item.field);
      if (item.cast !== undefined) {
        const [schema, name, array] = castTypeOf(ctx.cache, item.cast);
        sql = `(${sql})::${qualified({ schema, name })}${array ? "[]" : ""}`;
      }
      out.list.push(`${sql} AS ${qi(item.alias ?? fieldKey(item.field))}`);
      return;
    }
    case "embed":
      embed(ctx, out, rel, alias, path, item);
  }
}

/**
 * An embedded resource as a lateral subquery, as PostgREST builds it: to-one gives
 * row_to_json of the related row (null when none), to-many json_agg of the related rows
 * ([] when none). `!inner` turns the join into an inner one, dropping parents without a match.
 */
function embed(
  ctx: ReadCtx,
  out: LevelSql,
  rel: Relation,
  alias: string,
  path: string[],
  item: Extract<SelectItem, { kind: "embed" }>,
): void {
  const r = relationshipFor(ctx.cache, rel, { name: item.name, hint: item.hint });
  const target = ctx.cache.relations.get(r.to);
  if (!target)
    throw new RestError({
      status: 500,
      code: "PGRSTX00",
      message: `relation ${r.to} missing from the schema cache`,
    });
  const key = item.alias ?? item.name;
  const n = ++ctx.next;
  const a = `t${n}`;
  const j = `j${n}`;
  const count = countItem(item.select, target);
  const select = count ? [] : item.select;
  const inner = levelSql(ctx, { rel: target, alias: a, select, path: [...path, key] });
  const on = r.fromColumns.map((c, i) => `${qi(a)}.${qi(r.toColumns[i])} = ${qi(alias)}.${qi(c)}`);
  const where = [...on, ...inner.where].join(" AND ");
  if (count) {
    // `rel(count)`: [{ "count": n }], as PostgREST's aggregate answers it.
    const joins = inner.joins.map((x) => ` ${x.sql}`).join("");
    const sub = `SELECT count(*) AS ${qi(count)} FROM ${qualified(target)} AS ${qi(a)}${joins} WHERE ${where}`;
    out.joins.push({
      sql: `LEFT JOIN LATERAL (SELECT json_build_array(row_to_json(_j)) AS v FROM (${sub}) _j) AS ${qi(j)} ON TRUE`,
      inner: false,
    });
    out.list.push(`${qi(j)}.v AS ${qi(key)}`);
    return;
  }
  const sub = `SELECT ${inner.list.join(", ")} FROM ${qualified(target)} AS ${qi(a)}${inner.joins.map((x) => ` ${x.sql}`).join("")} WHERE ${where}${inner.orderBy}${inner.limit}`;
  const kind = item.inner ? "INNER" : "LEFT";
  if (r.cardinality === "one-to-many") {
    out.joins.push({
      sql: `${kind} JOIN LATERAL (SELECT json_agg(_j) AS v FROM (${sub}) _j) AS ${qi(j)} ON ${item.inner ? `${qi(j)}.v IS NOT NULL` : "TRUE"}`,
      inner: item.inner,
    });
    if (item.select.length > 0) out.list.push(`coalesce(${qi(j)}.v, '[]') AS ${qi(key)}`);
  } else {
    out.joins.push({
      sql: `${kind} JOIN LATERAL (SELECT row_to_json(_j) AS v FROM (${sub}) _j) AS ${qi(j)} ON TRUE`,
      inner: item.inner,
    });
    if (item.select.length > 0) out.list.push(`${qi(j)}.v AS ${qi(key)}`);
  }
}

/** The output name when an embed's select is just `count` (or `n:count`) and no column is so named. */
function countItem(select: SelectItem[], target: Relation): string | null {
  const [only] = select;
  if (select.length !== 1 || only.kind !== "column" || only.cast || only.field.json.length > 0)
    return null;
  if (only.field.name !== "count" || target.columns.has("count")) return null;
  return only.alias ?? "count";
}

/** PGRST108 for a filter, order or limit on a path no embed of this request has. */
export function checkLevelsUsed(ctx: ReadCtx): void {
  for (const key of ctx.levels.keys()) {
    if (!ctx.used.has(key)) {
      throw new RestError({
        status: 400,
        code: "PGRST108",
        message: `'${key}' is not an embedded resource in this request`,
        hint: `Verify that '${key}' is included in the 'select' query parameter.`,
      });
    }
  }
}

export interface ReadOptions {
  cache: SchemaCache;
  query: ParsedQuery;
  rel: Relation;
  p: Params;
  /** SQL of the rows read (the table, a mutation's CTE, a function call); default the table. */
  from?: string;
  /** Root filters already applied (by a mutation): skip them here. */
  rootConditions?: boolean;
  offset?: number;
  limit?: number;
  count?: "exact" | "planned" | "estimated";
  single?: boolean;
  stripNulls?: boolean;
}

/**
 * The read of a request: one row with `body` (JSON text built in Postgres, as PostgREST
 * does), `page_count` and, for count=exact, `total`. `estimate` is the unlimited page query
 * over the first `params` parameters, which a planned count EXPLAINs.
 */
export function readSql(o: ReadOptions): {
  sql: string;
  estimate: { sql: string; params: number };
} {
  const ctx: ReadCtx = { cache: o.cache, p: o.p, levels: o.query.levels, used: new Set(), next: 0 };
  const root = levelSql(ctx, {
    rel: o.rel,
    alias: "t0",
    select: o.query.select,
    path: [],
    conditions: o.rootConditions,
    limit: false,
  });
  checkLevelsUsed(ctx);
  const rootLevel = o.query.levels.get("");
  const offset = (rootLevel?.offset ?? 0) + (o.offset ?? 0);
  const limits = [rootLevel?.limit, o.limit].filter((x): x is number => x !== undefined);
  const from = `${o.from ?? qualified(o.rel)} AS "t0"`;
  const where = root.where.length > 0 ? ` WHERE ${root.where.join(" AND ")}` : "";
  const joins = root.joins.map((x) => ` ${x.sql}`).join("");
  const unlimited = `SELECT ${root.list.join(", ")} FROM ${from}${joins}${where}${root.orderBy}`;
  const estimate = { sql: unlimited, params: o.p.values.length };
  const limit = limitSql(o.p, limits.length > 0 ? Math.min(...limits) : undefined, offset);
  const innerJoins = root.joins
    .filter((x) => x.inner)
    .map((x) => ` ${x.sql}`)
    .join("");
  const page = `${unlimited}${limit}`;
  const countFrom = `SELECT 1 FROM ${from}${innerJoins}${where}`;
  let body = o.single ? "(json_agg(_t) -> 0)" : "coalesce(json_agg(_t), '[]')";
  if (o.stripNulls) body = `json_strip_nulls(${body})`;
  const total = o.count === "exact" ? `, (SELECT count(*) FROM (${countFrom}) _c) AS total` : "";
  return {
    sql: `SELECT ${body}::text AS body, count(*) AS page_count${total} FROM (${page}) _t`,
    estimate,
  };
}
