import type { Field } from "./ast.ts";
import { parseError } from "./errors.ts";

/**
 * A cursor over one query-string value. The grammar pieces (names, quoted strings, JSON
 * paths) shared by select=, order= and the filters live here.
 */
export class Cursor {
  pos = 0;
  constructor(
    readonly text: string,
    readonly what: string,
  ) {}

  get done(): boolean {
    return this.pos >= this.text.length;
  }
  peek(n = 1): string {
    return this.text.slice(this.pos, this.pos + n);
  }
  eat(s: string): boolean {
    if (this.text.startsWith(s, this.pos)) {
      this.pos += s.length;
      return true;
    }
    return false;
  }
  expect(s: string): void {
    if (!this.eat(s)) this.fail(`expected "${s}"`);
  }
  fail(why: string): never {
    const found = this.done ? "end of input" : `"${this.text.slice(this.pos, this.pos + 10)}"`;
    throw parseError(this.what, `${why} at position ${this.pos + 1}, found ${found}`);
  }
}

/** Characters that end an unquoted name in PostgREST's grammar. */
const STOP = new Set([",", "(", ")", ":", "!", '"', ".", "\n", "\r", "\t"]);

/** A name: `"quoted, with \" escapes"` or a run of characters up to a delimiter or `->`. */
export function readName(c: Cursor): string {
  if (c.eat('"')) return checkedName(c, readQuotedRest(c));
  const start = c.pos;
  while (!c.done && !STOP.has(c.peek()) && c.peek(2) !== "->") c.pos++;
  return checkedName(c, c.text.slice(start, c.pos).trim());
}

/** Postgres truncates identifiers past 63 bytes and refuses NUL: refuse both up front. */
function checkedName(c: Cursor, name: string): string {
  if (name === "") c.fail("expected a name");
  if (name.includes("\0")) c.fail("NUL in a name");
  if (Buffer.byteLength(name) > 63) c.fail("a name longer than 63 bytes");
  return name;
}

/** The rest of a double-quoted string whose opening quote was eaten; `\"` and `\\` escape. */
export function readQuotedRest(c: Cursor): string {
  let out = "";
  while (!c.done) {
    const ch = c.peek();
    c.pos++;
    if (ch === "\\" && !c.done) {
      out += c.peek();
      c.pos++;
    } else if (ch === '"') return out;
    else out += ch;
  }
  return c.fail("unterminated quoted string");
}

/** `col`, `col->key->>0`: a column and its JSON path. */
export function readField(c: Cursor): Field {
  const name = readName(c);
  const json: Field["json"] = [];
  for (;;) {
    const arrow = c.eat("->>") ? "->>" : c.eat("->") ? "->" : null;
    if (!arrow) break;
    json.push({ arrow, key: readName(c) });
  }
  return { name, json };
}

/** Splits at commas that are outside parentheses, braces and double quotes. */
export function splitTopLevel(text: string, what: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === "\\") i++;
      else if (ch === '"') quoted = false;
    } else if (ch === '"') quoted = true;
    else if (ch === "(" || ch === "{" || ch === "[") depth++;
    else if (ch === ")" || ch === "}" || ch === "]") {
      depth--;
      if (depth < 0) throw parseError(what, `unbalanced ")" at position ${i + 1}`);
    } else if (ch === "," && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (quoted) throw parseError(what, "unterminated quoted string");
  if (depth !== 0) throw parseError(what, 'missing ")"');
  parts.push(text.slice(start));
  return parts;
}

/** A list element: `"quoted"` loses its quotes (and escapes), anything else is kept as is. */
export function unquote(s: string): string {
  const t = s.trim();
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) {
    const c = new Cursor(t, "value");
    c.pos = 1;
    return readQuotedRest(c);
  }
  return t;
}

/** The output key of a field without an alias: the last JSON key, else the column. */
export function fieldKey(f: Field): string {
  return f.json.length > 0 ? f.json[f.json.length - 1].key : f.name;
}
