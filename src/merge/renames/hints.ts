/**
 * Rename hints (`--rename table:public.a=public.b`, `--rename column:public.t.a=b`): a
 * drop + create the user says is one object renamed. The target is renamed in place
 * before the diff (on a throwaway clone first, then in the merge's own transaction), so
 * the rows stay and the diff sees the same name on both sides.
 */
import { BoughError } from "../../core/errors.ts";
import { quoteIdent } from "../../core/names.ts";
import { columnId, qualified, splitQualified, tableId } from "../catalog/ids.ts";
import type { Snapshot } from "../catalog/snapshot.ts";

export type RenameHint =
  | { kind: "table"; schema: string; name: string; toSchema: string; toName: string }
  | { kind: "column"; schema: string; table: string; name: string; toName: string };

const USAGE =
  'write --rename table:SCHEMA.OLD=SCHEMA.NEW or --rename column:SCHEMA.TABLE.OLD=NEW (names quoted as in ids: public."Order")';

/** The index of the `=` outside double quotes, or -1. */
function separator(text: string): number {
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '"') quoted = !quoted;
    else if (text[i] === "=" && !quoted) return i;
  }
  return -1;
}

/**
 * Parses one hint as the CLI, the API (`renames`) and MCP take it.
 *
 * @example parseRenameHint("column:public.orders.sku=code")
 */
export function parseRenameHint(text: string): RenameHint {
  const bad = (why: string) =>
    new BoughError("INVALID_INPUT", `--rename "${text}": ${why}`, USAGE, { rename: text });
  const colon = text.indexOf(":");
  const kind = text.slice(0, colon);
  const rest = text.slice(colon + 1);
  const eq = separator(rest);
  if (colon < 0 || eq < 0) return badHint(bad, "expected KIND:FROM=TO");
  const from = splitQualified(rest.slice(0, eq));
  const to = splitQualified(rest.slice(eq + 1));
  if (!from || !to || [...from, ...to].some((n) => n === ""))
    return badHint(bad, "a name is empty or its quotes do not close");
  if (kind === "table") {
    if (from.length !== 2 || to.length > 2)
      return badHint(bad, "a table is SCHEMA.TABLE (the new name may leave out the schema)");
    const [schema, name] = from;
    const [toSchema, toName] = to.length === 2 ? to : [schema, to[0]];
    if (schema === toSchema && name === toName) return badHint(bad, "the names are the same");
    return { kind, schema, name, toSchema, toName };
  }
  if (kind === "column") {
    if (from.length !== 3 || to.length !== 1)
      return badHint(bad, "a column is SCHEMA.TABLE.COLUMN=NEW_NAME");
    const [schema, table, name] = from;
    if (name === to[0]) return badHint(bad, "the names are the same");
    return { kind, schema, table, name, toName: to[0] };
  }
  return badHint(bad, `unknown kind "${kind}" (table or column)`);
}

function badHint(bad: (why: string) => BoughError, why: string): never {
  throw bad(why);
}

/** The hint as the user writes it (what the detector suggests and the preview shows). */
export function renameHintText(h: RenameHint): string {
  return h.kind === "table"
    ? `table:${qualified(h.schema, h.name)}=${qualified(h.toSchema, h.toName)}`
    : `column:${qualified(h.schema, h.table, h.name)}=${qualified(h.toName)}`;
}

/** The id of what a hint renames, before and after. */
export function renameIds(h: RenameHint): { from: string; to: string } {
  return h.kind === "table"
    ? { from: tableId(h.schema, h.name), to: tableId(h.toSchema, h.toName) }
    : { from: columnId(h.schema, h.table, h.name), to: columnId(h.schema, h.table, h.toName) };
}

const ref = (schema: string, name: string) => `${quoteIdent(schema)}.${quoteIdent(name)}`;

/** The statements one hint runs on the target, in order (a move to another schema is a second one). */
export function renameSql(h: RenameHint): string[] {
  if (h.kind === "column")
    return [
      `ALTER TABLE ${ref(h.schema, h.table)} RENAME COLUMN ${quoteIdent(h.name)} TO ${quoteIdent(h.toName)};`,
    ];
  const out = [];
  if (h.name !== h.toName)
    out.push(`ALTER TABLE ${ref(h.schema, h.name)} RENAME TO ${quoteIdent(h.toName)};`);
  if (h.schema !== h.toSchema)
    out.push(`ALTER TABLE ${ref(h.schema, h.toName)} SET SCHEMA ${quoteIdent(h.toSchema)};`);
  return out;
}

/**
 * Refuses hints that cannot mean a rename here, in order (a later hint sees the names
 * earlier ones gave): the old name must be on the target and not the new one, and the
 * source must have the new name. `target` is the target with its pending migrations.
 */
export function checkRenameHints(
  hints: RenameHint[],
  snaps: { target: Snapshot; source: Snapshot; targetName: string; sourceName: string },
): void {
  const present = new Set(Object.keys(snaps.target.objects));
  for (const h of hints) {
    const { from, to } = renameIds(h);
    const text = renameHintText(h);
    const refuse = (why: string, hint: string): never => {
      throw new BoughError("INVALID_INPUT", `--rename ${text}: ${why}`, hint, { rename: text });
    };
    if (!present.has(from))
      refuse(`"${snaps.targetName}" has no ${from}`, "name the object as the target has it now");
    if (present.has(to))
      refuse(`"${snaps.targetName}" already has ${to}`, "a rename needs a name that is free");
    if (!snaps.source.objects[to])
      refuse(
        `"${snaps.sourceName}" has no ${to}`,
        "the new name is the one the branch has; see the merge preview's rename suggestions",
      );
    for (const id of [...present]) {
      const moved = movedId(id, h);
      if (moved !== id) {
        present.delete(id);
        present.add(moved);
      }
    }
  }
}

/** A table's or column's id (and its columns' ids) after a hint; others unchanged. */
function movedId(id: string, h: RenameHint): string {
  const { from, to } = renameIds(h);
  if (id === from) return to;
  const prefix = `column:${from.slice("table:".length)}.`;
  if (h.kind === "table" && id.startsWith(prefix))
    return `column:${to.slice("table:".length)}.${id.slice(prefix.length)}`;
  return id;
}
