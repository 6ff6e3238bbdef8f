import { quoteIdent } from "../../core/names.ts";
import type { ColumnObject, DbObject, ObjectKind, Snapshot } from "../catalog/snapshot.ts";
import { assertNever, byString } from "../diff/changes.ts";
import { columnSql } from "../render/sql/column.ts";
import { emptyContext, sqlContext } from "../render/sql/context.ts";
import { alterSql, createSql, dropSql } from "../render/sql/index.ts";
import { classWord, objectRef, qname, tableRef } from "../render/sql/refs.ts";
import { type Conversions, LOCK, type SqlContext, type SqlStep, step } from "../render/sql/step.ts";
import type { Action, ActionMap } from "./actions.ts";
import { tableOf } from "./owners.ts";

export type Op = "create" | "alter" | "drop";

/** One statement to order: its SQL, what it makes exist or go away, what it needs. */
export interface Node {
  /** Unique: `${actionId}#${n}`. */
  key: string;
  action: string;
  seq: number;
  objectId: string;
  kind: ObjectKind;
  op: Op;
  label: string;
  step: SqlStep;
  notes: string[];
  provides: string[];
  removes: string[];
  requires: string[];
  /** The table it works on, for ordering constraints after columns. */
  table: string | null;
}

/** Every action's statements as nodes, in id order (the sort makes the final order). */
export function toNodes(
  actions: ActionMap,
  snaps: { parent: Snapshot; branch: Snapshot; conversions?: Conversions },
): Node[] {
  const ctx = sqlContext(snaps);
  const nodes: Node[] = [];
  const implied = impliedBy(actions);
  for (const id of [...actions.keys()].sort(byString)) {
    const a = actions.get(id) as Action;
    const made = nodesOf(a, { actions, ctx, snaps });
    // What comes into being with this action's first create (columns of a new table).
    const first = made.find((n) => n.provides.includes(id));
    if (first) first.provides.push(...(implied.get(id) ?? []));
    if (first && "after" in a) {
      const extra = (implied.get(id) ?? []).flatMap(
        (c) => (actions.get(c) as Action & { after: DbObject }).after.deps,
      );
      first.requires = uniq([...first.requires, ...extra]);
    }
    made.forEach((n, seq) => {
      n.action = id;
      n.seq = seq;
      n.key = `${id}#${seq}`;
    });
    nodes.push(...made);
  }
  return nodes;
}

function impliedBy(actions: ActionMap): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const id of [...actions.keys()].sort(byString)) {
    const a = actions.get(id) as Action;
    if (a.mode === "implied" || a.mode === "replaced")
      out.set(a.by, [...(out.get(a.by) ?? []), id]);
  }
  return out;
}

interface Env {
  actions: ActionMap;
  ctx: SqlContext;
  snaps: { parent: Snapshot; branch: Snapshot };
}

function nodesOf(a: Action, env: Env): Node[] {
  switch (a.mode) {
    case "create":
      return creates(a.after, a.label, a.notes, env);
    case "drop":
      return a.implicit ? [] : drops(a.before, a.label, a.notes, env);
    case "alter": {
      const steps = alterSql(a.before, a.after, env.ctx);
      return steps.map((s) =>
        node({ obj: a.after, op: "alter", label: a.label, step: s, notes: a.notes }),
      );
    }
    case "recreate": {
      const out = a.implicitDrop ? [] : drops(a.before, a.label, a.notes, env);
      return [...out, ...creates(a.after, a.label, a.notes, env)];
    }
    case "retype":
      return retype(a, env);
    case "replaced":
      return drops(a.before, a.label, a.notes, env);
    case "implied":
    case "converted":
      // Statements come from the owning action (CREATE TABLE, the parent column, the retype).
      return [];
    default:
      return assertNever(a);
  }
}

function creates(obj: DbObject, label: string, notes: string[], env: Env): Node[] {
  return createSql(obj, env.ctx).map((s) =>
    node({
      obj,
      op: s.followUp ? "alter" : "create",
      label,
      step: s,
      notes,
      provides: !s.followUp,
    }),
  );
}

function drops(obj: DbObject, label: string, notes: string[], env: Env): Node[] {
  return dropSql(obj, env.ctx).map((s) => node({ obj, op: "drop", label, step: s, notes }));
}

function node(o: {
  obj: DbObject;
  op: Op;
  label: string;
  step: SqlStep;
  notes: string[];
  provides?: boolean;
}): Node {
  const { obj, op } = o;
  return {
    key: "",
    action: obj.id,
    seq: 0,
    objectId: obj.id,
    kind: obj.kind,
    op,
    label: o.label,
    step: o.step,
    notes: uniq([...o.notes, ...(o.step.notes ?? [])]),
    provides: op !== "drop" && o.provides !== false ? [obj.id] : [],
    removes: op === "drop" ? [obj.id] : [],
    requires: op === "drop" ? [] : uniq([...obj.deps, ...(o.step.requires ?? [])]),
    table: tableOf(obj),
  };
}

/** A type in use rebuilt: rename away, create, convert each column through text, drop the old one. */
function retype(a: Extract<Action, { mode: "retype" }>, env: Env): Node[] {
  if (a.before.kind === "range") return rangeRetype(a, env);
  const before = a.before as DbObject & { schema: string; name: string };
  const old = oldName(before.name);
  const word = classWord(a.before);
  const out: Node[] = [
    node({
      obj: a.after,
      op: "alter",
      label: a.label,
      step: step(`ALTER ${word} ${objectRef(a.before)} RENAME TO ${quoteIdent(old)};`),
      notes: a.notes,
      provides: false,
    }),
    ...creates(a.after, a.label, a.notes, env),
  ];
  out.push(...convertedColumns(a, env, (c) => convertColumn(c.before, c.after, a)));
  const drop = node({
    obj: a.before,
    op: "drop",
    label: a.label,
    step: step(`DROP ${word} ${qname(before.schema, old)};`),
    notes: a.notes,
  });
  return [...out, drop];
}

type Converted = { before: ColumnObject; after: ColumnObject };

/** The retype's column conversions as nodes, `steps` making each column's statements. */
function convertedColumns(
  a: Extract<Action, { mode: "retype" }>,
  env: Env,
  steps: (c: Converted) => SqlStep[],
): Node[] {
  return a.columns.flatMap((id) => {
    const c = env.actions.get(id);
    if (c?.mode !== "converted" || c.before.kind !== "column" || c.after.kind !== "column")
      return [];
    return steps({ before: c.before, after: c.after }).map((s) =>
      node({
        obj: c.after,
        op: "alter",
        label: "retype",
        step: s,
        notes: [`converted to the rebuilt ${a.id}`],
      }),
    );
  });
}

/**
 * A range type in use rebuilt: its multirange's constructor functions keep their names
 * when it is renamed, so it cannot be renamed away. Its columns are parked as text, the old
 * type dropped, the new one created and the columns converted back from text.
 */
function rangeRetype(a: Extract<Action, { mode: "retype" }>, env: Env): Node[] {
  const text = (c: ColumnObject) => (c.type.endsWith("[]") ? "text[]" : "text");
  const alter = (c: ColumnObject) =>
    `ALTER TABLE ${tableRef(c)} ALTER COLUMN ${quoteIdent(c.name)}`;
  const hazards = [LOCK, "rewrites-table", "may-fail-on-existing-rows"] as const;
  const toText = convertedColumns(a, env, ({ before }) => [
    ...(before.default !== null ? [step(`${alter(before)} DROP DEFAULT;`, [LOCK])] : []),
    step(
      `${alter(before)} TYPE ${text(before)} USING ${quoteIdent(before.name)}::${text(before)};`,
      [...hazards],
    ),
  ]);
  const fromText = convertedColumns(a, env, ({ before, after }) => {
    const rest = { ...before, type: after.type, collation: after.collation, default: null };
    return [
      step(`${alter(after)} TYPE ${after.type} USING ${quoteIdent(after.name)}::${after.type};`, [
        ...hazards,
      ]),
      ...columnSql.alter(rest, after, emptyContext),
    ];
  });
  return [
    ...toText,
    ...drops(a.before, a.label, a.notes, env),
    ...creates(a.after, a.label, a.notes, env),
    ...fromText,
  ];
}

/** The name a rebuilt type is renamed away to (within NAMEDATALEN). */
const oldName = (name: string) => `${name.slice(0, 52)}__bough_old`;

/**
 * ALTER COLUMN TYPE to the rebuilt type, then the column's other changes. Values go
 * through text (any type reads its own text form), a composite attribute by attribute.
 */
function convertColumn(
  before: ColumnObject,
  after: ColumnObject,
  a: Extract<Action, { mode: "retype" }>,
): SqlStep[] {
  const out: SqlStep[] = [];
  const col = `ALTER TABLE ${tableRef(after)} ALTER COLUMN ${quoteIdent(after.name)}`;
  if (before.default !== null) out.push(step(`${col} DROP DEFAULT;`, [LOCK]));
  // Without COLLATE the column would fall back to its type's collation (and a rebuilt collation is named again).
  const collate = after.collation ? ` COLLATE ${after.collation}` : "";
  out.push(
    step(`${col} TYPE ${after.type}${collate} USING ${convertedValue(after, a)};`, [
      LOCK,
      "rewrites-table",
      "may-fail-on-existing-rows",
    ]),
  );
  const rest = { ...before, type: after.type, collation: after.collation, default: null };
  return [...out, ...columnSql.alter(rest, after, emptyContext)];
}

function convertedValue(c: ColumnObject, a: Extract<Action, { mode: "retype" }>): string {
  const name = quoteIdent(c.name);
  const array = c.type.endsWith("[]");
  if (a.before.kind === "composite" && a.after.kind === "composite" && !array) {
    const was = new Set(a.before.attributes.map((x) => x.name));
    const fields = a.after.attributes.map((x) =>
      was.has(x.name) ? `(${name}).${quoteIdent(x.name)}::${x.type}` : `NULL::${x.type}`,
    );
    return `CASE WHEN ${name} IS NULL THEN NULL ELSE ROW(${fields.join(", ")})::${c.type} END`;
  }
  return `${name}::${array ? "text[]" : "text"}::${c.type}`;
}

const uniq = (xs: string[]) => [...new Set(xs)].sort(byString);
