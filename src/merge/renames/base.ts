import { sameObject } from "../catalog/equality.ts";
import { objectId, qualified } from "../catalog/ids.ts";
import type { DbObject, Snapshot } from "../catalog/snapshot.ts";
import { byString } from "../diff/changes.ts";
import type { RenameHint } from "./hints.ts";

/**
 * The three-way base with the rename hints applied to it as well, so the renamed object
 * keeps its history (a change either side made since the base is still seen as one).
 *
 * An object the target has not changed since the base is taken as the target has it
 * after the renames, exactly as Postgres rewrote it (views, keys and indexes that name
 * the table or column). One the target changed is renamed here field by field, its
 * definitions rewritten as text: where that text is not what Postgres would print, the
 * object only looks changed on both sides (a conflict), never unchanged.
 *
 * @example renameBase({ base, before: parentNow, after: parentRenamed, hints })
 */
export function renameBase(o: {
  base: Snapshot;
  /** The target before the renames (with its pending migrations) and after them. */
  before: Snapshot;
  after: Snapshot;
  hints: RenameHint[];
}): Snapshot {
  if (o.hints.length === 0) return o.base;
  const ids = new Map<string, string>();
  const renamed = new Map<string, DbObject>();
  const all = Object.values(o.base.objects);
  // Grants and comments name their target by id: rename the targets first.
  const named = (x: DbObject) => x.kind === "grant" || x.kind === "comment";
  for (const obj of [...all.filter((x) => !named(x)), ...all.filter(named)]) {
    let r = obj;
    for (const h of o.hints) r = h.kind === "table" ? tableRenamed(r, h) : columnRenamed(r, h);
    if (r.kind === "grant" || r.kind === "comment")
      r = { ...r, target: ids.get(r.target) ?? r.target };
    const id = objectId(r);
    ids.set(obj.id, id);
    renamed.set(obj.id, { ...r, id });
  }
  const out: Record<string, DbObject> = {};
  for (const old of Object.keys(o.base.objects)) {
    const id = ids.get(old) as string;
    const untouched = sameObject(o.base.objects[old], o.before.objects[old]);
    const fromTarget = untouched ? o.after.objects[id] : undefined;
    const r = renamed.get(old) as DbObject;
    out[id] = fromTarget ?? { ...r, deps: r.deps.map((d) => ids.get(d) ?? d) };
  }
  const objects: Record<string, DbObject> = {};
  for (const id of Object.keys(out).sort(byString)) objects[id] = out[id];
  return { ...o.base, objects };
}

type TableHint = Extract<RenameHint, { kind: "table" }>;
type ColumnHint = Extract<RenameHint, { kind: "column" }>;

function tableRenamed(o: DbObject, h: TableHint): DbObject {
  const from = qualified(h.schema, h.name);
  const to = qualified(h.toSchema, h.toName);
  const text = (t: string | null) => (t === null ? null : replaceName(t, from, to));
  const q = (x: string) => (x === from ? to : x);
  const moved = <T extends { schema: string; table: string }>(x: T): T =>
    x.schema === h.schema && x.table === h.name ? { ...x, schema: h.toSchema, table: h.toName } : x;
  switch (o.kind) {
    case "table": {
      const self = o.schema === h.schema && o.name === h.name;
      return {
        ...o,
        ...(self ? { schema: h.toSchema, name: h.toName } : {}),
        partitionOf: o.partitionOf && { ...o.partitionOf, parent: q(o.partitionOf.parent) },
        inherits: o.inherits.map(q),
      };
    }
    case "column":
      return { ...moved(o), default: text(o.default), generated: text(o.generated) };
    case "constraint":
      return {
        ...moved(o),
        definition: text(o.definition) as string,
        references: o.references && q(o.references),
      };
    case "index":
    case "trigger":
    case "rule":
      return { ...moved(o), definition: text(o.definition) as string };
    case "statistics":
      return { ...o, relation: q(o.relation), definition: text(o.definition) as string };
    case "policy":
      return { ...moved(o), using: text(o.using), withCheck: text(o.withCheck) };
    case "publication_table":
      return moved(o);
    case "view":
    case "matview":
      return { ...o, definition: text(o.definition) as string };
    case "sequence": {
      if (!o.ownedBy?.startsWith(`${from}.`)) return o;
      return { ...o, schema: h.toSchema, ownedBy: to + o.ownedBy.slice(from.length) };
    }
    default:
      return o;
  }
}

function columnRenamed(o: DbObject, h: ColumnHint): DbObject {
  const from = qualified(h.name);
  const to = qualified(h.toName);
  const onTable =
    o.kind === "statistics"
      ? o.relation === qualified(h.schema, h.table)
      : "table" in o && o.schema === h.schema && o.table === h.table;
  if (!onTable) {
    const owner = qualified(h.schema, h.table, h.name);
    if (o.kind === "sequence" && o.ownedBy === owner)
      return { ...o, ownedBy: qualified(h.schema, h.table, h.toName) };
    return o;
  }
  const text = (t: string | null) => (t === null ? null : replaceName(t, from, to));
  switch (o.kind) {
    case "column":
      return {
        ...o,
        name: o.name === h.name ? h.toName : o.name,
        default: text(o.default),
        generated: text(o.generated),
      };
    case "constraint":
    case "index":
    case "trigger":
    case "rule":
    case "statistics":
      return { ...o, definition: text(o.definition) as string };
    case "policy":
      return { ...o, using: text(o.using), withCheck: text(o.withCheck) };
    case "publication_table":
      return {
        ...o,
        columns: o.columns === null ? null : o.columns.map((c) => (c === h.name ? h.toName : c)),
      };
    default:
      return o;
  }
}

const WORD = /[A-Za-z0-9_$"]/u;

/**
 * `from` replaced by `to` where it stands as a whole name (an identifier or a qualified
 * name as Postgres prints it), outside string literals.
 */
export function replaceName(text: string, from: string, to: string): string {
  let out = "";
  for (let i = 0; i < text.length; ) {
    if (text[i] === "'") {
      let j = i + 1;
      while (j < text.length && !(text[j] === "'" && text[j + 1] !== "'"))
        j += text[j] === "'" ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    const whole =
      text.startsWith(from, i) &&
      !WORD.test(text[i - 1] ?? " ") &&
      !WORD.test(text[i + from.length] ?? " ");
    if (whole) {
      out += to;
      i += from.length;
    } else {
      out += text[i];
      i++;
    }
  }
  return out;
}
