import { type Condition, type Field, type FilterValue, OPERATORS, type Operator } from "./ast.ts";
import { parseError } from "./errors.ts";
import { Cursor, readField, splitTopLevel, unquote } from "./parse-text.ts";

const OPS = new Set<string>(OPERATORS);
const FTS = new Set<Operator>(["fts", "plfts", "phfts", "wfts"]);
const QUANTIFIABLE = new Set<Operator>([
  "eq",
  "neq",
  "gt",
  "gte",
  "lt",
  "lte",
  "like",
  "ilike",
  "match",
  "imatch",
]);
const IS_VALUES = new Set(["null", "not_null", "true", "false", "unknown"]);

/**
 * A horizontal filter's value: `eq.5`, `not.in.(1,2)`, `is.null`, `fts(english).cat`,
 * `like(any).{a*,b*}`. In a logic tree (`or=(...)`) a scalar may be double-quoted.
 *
 * @example parseFilter({ name: "age", json: [] }, "not.gte.18")
 */
export function parseFilter(field: Field, text: string, o: { inLogic?: boolean } = {}): Condition {
  const what = `filter (${text.slice(0, 40)})`;
  let rest = text;
  let negate = false;
  if (rest.startsWith("not.")) {
    negate = true;
    rest = rest.slice(4);
  }
  const m = /^([a-z]+)(?:\(([^)]*)\))?\./.exec(rest);
  if (!m || !OPS.has(m[1])) throw parseError(what, `unknown operator "${rest.split(".")[0]}"`);
  const op = m[1] as Operator;
  const modifier = m[2];
  const raw = rest.slice(m[0].length);
  return { kind: "filter", field, negate, op, value: filterValue(op, modifier, raw, what, o) };
}

function filterValue(
  op: Operator,
  modifier: string | undefined,
  raw: string,
  what: string,
  o: { inLogic?: boolean },
): FilterValue {
  const scalar = (s: string) => (o.inLogic ? unquote(s) : s);
  if (FTS.has(op)) return { kind: "fts", config: modifier || undefined, value: scalar(raw) };
  if (modifier !== undefined) {
    if (!QUANTIFIABLE.has(op) || (modifier !== "any" && modifier !== "all"))
      throw parseError(what, `"${op}(${modifier})" is not an operator`);
    return { kind: "list", values: braceList(raw, what), quantifier: modifier };
  }
  if (op === "in") return { kind: "list", values: parenList(raw, what) };
  if (op === "is") {
    const v = raw.toLowerCase();
    if (!IS_VALUES.has(v))
      throw parseError(what, "is. takes null, not_null, true, false or unknown");
    return { kind: "is", value: v as "null" };
  }
  const value = scalar(raw);
  return {
    kind: "scalar",
    value: op === "like" || op === "ilike" ? value.replaceAll("*", "%") : value,
  };
}

function parenList(raw: string, what: string): string[] {
  if (!raw.startsWith("(") || !raw.endsWith(")"))
    throw parseError(what, 'in. takes a list "(a,b)"');
  const inner = raw.slice(1, -1);
  return inner.trim() === "" ? [] : splitTopLevel(inner, what).map(unquote);
}

function braceList(raw: string, what: string): string[] {
  if (!raw.startsWith("{") || !raw.endsWith("}")) throw parseError(what, 'expected a list "{a,b}"');
  const inner = raw.slice(1, -1);
  return inner.trim() === "" ? [] : splitTopLevel(inner, what).map(unquote);
}

/**
 * `or=(a.eq.1,and(b.gt.2,c.is.null),not.or(...))` → one logic condition.
 *
 * @example parseLogic("or", false, "(id.eq.1,id.eq.2)")
 */
export function parseLogic(op: "and" | "or", negate: boolean, text: string): Condition {
  const what = `logic tree (${text.slice(0, 40)})`;
  if (!text.startsWith("(") || !text.endsWith(")"))
    throw parseError(what, `${op}= takes a parenthesised list`);
  const inner = text.slice(1, -1);
  if (inner.trim() === "") throw parseError(what, "empty logic tree");
  const children = splitTopLevel(inner, what).map((part) => logicChild(part.trim(), what));
  return { kind: "logic", op, negate, children };
}

function logicChild(part: string, what: string): Condition {
  const m = /^(not\.)?(and|or)\(/.exec(part);
  if (m) return parseLogic(m[2] as "and" | "or", !!m[1], part.slice(m[0].length - 1));
  const c = new Cursor(part, what);
  const field = readField(c);
  if (!c.eat(".")) c.fail('expected "." after the column');
  return parseFilter(field, part.slice(c.pos), { inLogic: true });
}
