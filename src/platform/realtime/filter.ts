import { BoughError } from "../../core/errors.ts";

/** The operators a postgres_changes `filter` takes, as Supabase Realtime accepts them. */
export type FilterOp = "eq" | "neq" | "lt" | "lte" | "gt" | "gte" | "in";
const OPS = new Set<string>(["eq", "neq", "lt", "lte", "gt", "gte", "in"]);

/** One `column=op.value` condition; `in` has several values. */
export interface FilterCond {
  column: string;
  op: FilterOp;
  negate: boolean;
  values: string[];
}

const bad = (filter: string, why: string) =>
  new BoughError(
    "INVALID_INPUT",
    `invalid postgres_changes filter "${filter}": ${why}`,
    "use column=op.value with op one of eq, neq, lt, lte, gt, gte, in (e.g. id=eq.1, id=in.(1,2)); join conditions with commas",
  );

/** Splits on `sep` outside double quotes and parentheses. */
function splitTop(s: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let cur = "";
  for (const ch of s) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === "(") depth++;
    else if (!quoted && ch === ")") depth--;
    if (ch === sep && !quoted && depth === 0) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

const unquote = (v: string) => (/^".*"$/s.test(v) ? v.slice(1, -1).replace(/\\(.)/g, "$1") : v);

/**
 * Parses a filter string (`user_id=eq.42`, `status=not.in.(a,b)`, `id=gt.0,id=lt.100`)
 * into conditions, all of which must hold. Throws INVALID_INPUT.
 */
export function parseFilter(filter: string): FilterCond[] {
  if (filter.length > 1000) throw bad(filter.slice(0, 40), "longer than 1000 characters");
  return splitTop(filter, ",").map((part) => {
    const eq = part.indexOf("=");
    if (eq <= 0) throw bad(filter, `"${part}" has no column=`);
    const column = part.slice(0, eq).trim();
    let rest = part.slice(eq + 1);
    let negate = false;
    if (rest.startsWith("not.")) {
      negate = true;
      rest = rest.slice(4);
    }
    const dot = rest.indexOf(".");
    const op = dot < 0 ? rest : rest.slice(0, dot);
    if (!OPS.has(op)) throw bad(filter, `unknown operator "${op}"`);
    const raw = dot < 0 ? "" : rest.slice(dot + 1);
    if (op !== "in") return { column, op: op as FilterOp, negate, values: [unquote(raw)] };
    if (!/^\(.*\)$/s.test(raw)) throw bad(filter, "in takes a list: in.(a,b)");
    const values = splitTop(raw.slice(1, -1), ",").map((v) => unquote(v.trim()));
    if (values.length > 100) throw bad(filter, "in takes at most 100 values");
    return { column, op: "in", negate, values };
  });
}

const NUMERIC = new Set(["int2", "int4", "int8", "float4", "float8", "numeric", "oid"]);

function compare(a: string, b: string, type: string): number {
  if (NUMERIC.has(type)) return Number(a) - Number(b);
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Whether a row (column → Postgres text form, null for NULL) passes the conditions, whose
 * values were canonicalised by Postgres (cast to the column's type and back to text) so an
 * equality is a text equality. Numbers order numerically, other types by their text form.
 * A NULL column matches no condition, as in SQL.
 */
export function matches(
  conds: readonly FilterCond[],
  row: Readonly<Record<string, string | null>>,
  typeOf: (column: string) => string,
): boolean {
  return conds.every((c) => {
    const v = row[c.column];
    if (v === null || v === undefined) return false;
    const type = typeOf(c.column);
    const cmp = (x: string) => compare(v, x, type);
    let ok: boolean;
    switch (c.op) {
      case "eq":
        ok = cmp(c.values[0]) === 0;
        break;
      case "neq":
        ok = cmp(c.values[0]) !== 0;
        break;
      case "lt":
        ok = cmp(c.values[0]) < 0;
        break;
      case "lte":
        ok = cmp(c.values[0]) <= 0;
        break;
      case "gt":
        ok = cmp(c.values[0]) > 0;
        break;
      case "gte":
        ok = cmp(c.values[0]) >= 0;
        break;
      case "in":
        ok = c.values.some((x) => cmp(x) === 0);
        break;
    }
    return c.negate ? !ok : ok;
  });
}
