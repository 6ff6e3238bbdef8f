import { quoteIdent } from "../../../core/names.ts";
import type { Field } from "../ast.ts";
import { columnOf, type Relation } from "../schema-cache.ts";

/** Bind parameters of one statement: every request value goes through add(), never into the text. */
export class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** A statement ready for pg: text and its bind parameters. */
export interface Statement {
  text: string;
  values: unknown[];
}

export const qi = quoteIdent;
export const qualified = (rel: { schema: string; name: string }) =>
  `${qi(rel.schema)}.${qi(rel.name)}`;

/**
 * `"t0"."col"` followed by its JSON path: keys are parameters (`->` an integer one for
 * array indexes), the column is checked against the relation first.
 */
export function fieldSql(p: Params, rel: Relation, alias: string, f: Field): string {
  const col = columnOf(rel, f.name);
  let sql = `${qi(alias)}.${qi(col.name)}`;
  for (const step of f.json) {
    const key = /^-?\d{1,9}$/.test(step.key)
      ? `${p.add(Number(step.key))}::int`
      : `${p.add(step.key)}::text`;
    sql = `(${sql} ${step.arrow} ${key})`;
  }
  return sql;
}
