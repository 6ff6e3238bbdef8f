import type { SelectItem } from "./ast.ts";
import { Cursor, readField, readName } from "./parse-text.ts";

/**
 * `select=` → items: `*`, `col`, `alias:col`, `col::cast`, `col->a->>b`, and embedded
 * resources `rel(...)`, `alias:rel!hint!inner(...)`.
 *
 * @example parseSelect("id,author:users!author_id(name)")
 */
export function parseSelect(text: string): SelectItem[] {
  const c = new Cursor(text, "select");
  const items = readItems(c);
  if (!c.done) c.fail('expected "," or end of select');
  return items;
}

function readItems(c: Cursor): SelectItem[] {
  const items: SelectItem[] = [];
  do {
    skipSpace(c);
    items.push(readItem(c));
    skipSpace(c);
  } while (c.eat(","));
  return items;
}

function readItem(c: Cursor): SelectItem {
  if (c.eat("*")) return { kind: "star" };
  if (c.peek(3) === "...") c.fail("spread embeds (...) are not supported");
  const start = c.pos;
  let alias: string | undefined;
  const first = readName(c);
  if (c.peek() === ":" && c.peek(2) !== "::") {
    c.pos++;
    alias = first;
  } else c.pos = start;
  const field = readField(c);
  if (field.json.length === 0 && (c.peek() === "!" || c.peek() === "(")) {
    return readEmbed(c, field.name, alias);
  }
  let cast: string | undefined;
  if (c.eat("::")) cast = readName(c);
  if (c.peek() === "(") c.fail("aggregates and functions in select are not supported");
  return { kind: "column", field, alias, cast };
}

function readEmbed(c: Cursor, name: string, alias: string | undefined): SelectItem {
  let hint: string | undefined;
  let inner = false;
  while (c.eat("!")) {
    const word = readName(c);
    if (word === "inner") inner = true;
    else if (word === "left") inner = false;
    else if (hint === undefined) hint = word;
    else c.fail("more than one hint");
  }
  c.expect("(");
  skipSpace(c);
  const select: SelectItem[] = c.peek() === ")" ? [] : readItems(c);
  c.expect(")");
  return { kind: "embed", name, alias, hint, inner, select };
}

function skipSpace(c: Cursor): void {
  while (c.peek() === " ") c.pos++;
}
