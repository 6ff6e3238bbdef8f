import type { Condition, Operator } from "../ast.ts";
import type { Relation } from "../schema-cache.ts";
import { fieldSql, type Params } from "./params.ts";

const BINARY: Partial<Record<Operator, string>> = {
  eq: "=",
  neq: "<>",
  gt: ">",
  gte: ">=",
  lt: "<",
  lte: "<=",
  like: "LIKE",
  ilike: "ILIKE",
  match: "~",
  imatch: "~*",
  cs: "@>",
  cd: "<@",
  ov: "&&",
  sl: "<<",
  sr: ">>",
  nxl: "&<",
  nxr: "&>",
  adj: "-|-",
  isdistinct: "IS DISTINCT FROM",
};

const TSQUERY = {
  fts: "to_tsquery",
  plfts: "plainto_tsquery",
  phfts: "phraseto_tsquery",
  wfts: "websearch_to_tsquery",
} as const;

const IS = {
  null: "IS NULL",
  not_null: "IS NOT NULL",
  true: "IS TRUE",
  false: "IS FALSE",
  unknown: "IS UNKNOWN",
} as const;

/**
 * One condition over relation `rel` aliased `alias`. Values are parameters whose type
 * Postgres infers from the column (as PostgREST's untyped literals are), so `id=eq.abc`
 * fails in Postgres with 22P02 and nothing runs.
 */
export function conditionSql(p: Params, rel: Relation, alias: string, c: Condition): string {
  if (c.kind === "logic") {
    const joiner = c.op === "and" ? " AND " : " OR ";
    const inner = `(${c.children.map((child) => conditionSql(p, rel, alias, child)).join(joiner)})`;
    return c.negate ? `NOT ${inner}` : inner;
  }
  const lhs = fieldSql(p, rel, alias, c.field);
  const sql = filterSql(p, lhs, c.op, c.value);
  return c.negate ? `NOT (${sql})` : sql;
}

function filterSql(
  p: Params,
  lhs: string,
  op: Operator,
  v: Extract<Condition, { kind: "filter" }>["value"],
): string {
  switch (v.kind) {
    case "is":
      return `${lhs} ${IS[v.value]}`;
    case "fts": {
      const fn = TSQUERY[op as keyof typeof TSQUERY];
      const args =
        v.config === undefined
          ? p.add(v.value)
          : `${p.add(v.config)}::regconfig, ${p.add(v.value)}`;
      return `${lhs} @@ ${fn}(${args})`;
    }
    case "list": {
      if (op === "in") return `${lhs} = ANY(${p.add(v.values)})`;
      const values =
        op === "like" || op === "ilike" ? v.values.map((x) => x.replaceAll("*", "%")) : v.values;
      return `${lhs} ${BINARY[op]} ${v.quantifier === "all" ? "ALL" : "ANY"}(${p.add(values)})`;
    }
    case "scalar":
      return `${lhs} ${BINARY[op]} ${p.add(v.value)}`;
  }
}

/** AND of a level's conditions ("" when none). */
export function conditionsSql(p: Params, rel: Relation, alias: string, cs: Condition[]): string[] {
  return cs.map((c) => conditionSql(p, rel, alias, c));
}
