import type { Level, OrderTerm, ParsedQuery } from "./ast.ts";
import { parseError } from "./errors.ts";
import { parseFilter, parseLogic } from "./parse-filter.ts";
import { parseSelect } from "./parse-select.ts";
import { Cursor, readField, readName, splitTopLevel } from "./parse-text.ts";

/**
 * The query string of a data API request → ParsedQuery. Keys may carry an embed path
 * (`comments.order`, `comments.author.limit`, `comments.status=eq.x`): each applies at that
 * level of the embedding tree. `skip` holds the names a GET /rpc call takes as arguments.
 *
 * @example parseQuery(new URLSearchParams("select=*,posts(*)&posts.order=id.desc&id=eq.1"))
 */
export function parseQuery(params: URLSearchParams, o: { skip?: Set<string> } = {}): ParsedQuery {
  const q: ParsedQuery = { select: [{ kind: "star" }], levels: new Map() };
  for (const [key, value] of params) {
    if (o.skip?.has(key)) continue;
    if (key === "select") {
      if (value.trim() !== "") q.select = parseSelect(value);
    } else if (key === "columns") q.columns = nameList(value, "columns");
    else if (key === "on_conflict") q.onConflict = nameList(value, "on_conflict");
    else addToLevel(q, key, value);
  }
  return q;
}

const levelAt = (q: ParsedQuery, path: string[]): Level => {
  const key = path.join(".");
  let level = q.levels.get(key);
  if (!level) {
    level = { path, conditions: [], order: [] };
    q.levels.set(key, level);
  }
  return level;
};

function addToLevel(q: ParsedQuery, key: string, value: string): void {
  // A JSON path may hold dots only after an arrow; the embed path is what comes before.
  const arrowAt = key.indexOf("->");
  const head = arrowAt < 0 ? key : key.slice(0, arrowAt);
  const segments = head.split(".");
  let last = segments.pop() ?? "";
  if (arrowAt >= 0) last += key.slice(arrowAt);
  let negate = false;
  if ((last === "or" || last === "and") && segments[segments.length - 1] === "not") {
    segments.pop();
    negate = true;
  }
  if (segments.some((s) => s === "")) throw parseError(key, "empty embed name in the key");
  const level = levelAt(q, segments);
  switch (last) {
    case "order":
      level.order.push(...parseOrder(value));
      return;
    case "limit":
      level.limit = nonNegative(value, "limit");
      return;
    case "offset":
      level.offset = nonNegative(value, "offset");
      return;
    case "or":
    case "and":
      level.conditions.push(parseLogic(last, negate, value));
      return;
  }
  const c = new Cursor(last, `filter key (${last})`);
  const field = readField(c);
  if (!c.done) c.fail("unexpected text after the column");
  level.conditions.push(parseFilter(field, value));
}

/** `order=a.desc.nullslast,b->>c` → terms. */
export function parseOrder(text: string): OrderTerm[] {
  return splitTopLevel(text, "order").map((part) => {
    const c = new Cursor(part.trim(), "order");
    const field = readField(c);
    if (c.peek() === "(") c.fail("ordering by an embedded resource is not supported");
    const term: OrderTerm = { field, desc: false };
    while (c.eat(".")) {
      const word = readName(c);
      if (word === "asc" || word === "desc") term.desc = word === "desc";
      else if (word === "nullsfirst" || word === "nullslast")
        term.nulls = word === "nullsfirst" ? "first" : "last";
      else c.fail(`unknown order modifier "${word}"`);
    }
    if (!c.done) c.fail('expected "," or end of order');
    return term;
  });
}

function nonNegative(value: string, what: string): number {
  if (!/^\d{1,15}$/.test(value))
    throw parseError(`${what} parameter`, `"${value}" is not a non-negative integer`);
  return Number(value);
}

/** `columns="a","b"` and `on_conflict=a,b`: plain names, optionally double-quoted. */
function nameList(value: string, what: string): string[] {
  return splitTopLevel(value, what).map((part) => {
    const c = new Cursor(part.trim(), what);
    const name = readName(c);
    if (!c.done) c.fail("expected a column name");
    return name;
  });
}
