import { quoteIdent } from "../../../core/names.ts";
import {
  idOfQualified,
  idPart,
  memberId,
  schemaObjectId,
  splitQualified,
} from "../../catalog/ids.ts";
import type { TableObject } from "../../catalog/snapshot.ts";
import { columnDefinition, physicalSteps } from "./column.ts";
import { lit, qname } from "./refs.ts";
import { type Converter, LOCK, type SqlContext, type SqlStep, step } from "./step.ts";

const SIMPLE = /^[a-z_][a-z0-9_]*$/u;

/** "fillfactor=70" → `fillfactor='70'`; option names are keywords, quoted only when unusual. */
function option(o: string): { name: string; text: string } {
  const eq = o.indexOf("=");
  const key = eq < 0 ? o : o.slice(0, eq);
  const name = key
    .split(".")
    .map((p) => (SIMPLE.test(p) ? p : quoteIdent(p)))
    .join(".");
  return { name, text: eq < 0 ? name : `${name}=${lit(o.slice(eq + 1))}` };
}

/** A parent table (qualified name, catalog/ids.ts) as SQL, through the snapshot when it is there. */
function parentRef(parent: string, ctx: SqlContext): string {
  const t = ctx.lookup(idOfQualified("table", parent));
  if (t?.kind === "table") return qname(t.schema, t.name);
  return (splitQualified(parent) ?? [parent]).map(quoteIdent).join(".");
}

function rlsSteps(before: TableObject | null, t: TableObject): SqlStep[] {
  const q = qname(t.schema, t.name);
  const out: SqlStep[] = [];
  if ((before?.rlsEnabled ?? false) !== t.rlsEnabled) {
    out.push(
      step(`ALTER TABLE ${q} ${t.rlsEnabled ? "ENABLE" : "DISABLE"} ROW LEVEL SECURITY;`, [LOCK]),
    );
  }
  if ((before?.rlsForced ?? false) !== t.rlsForced) {
    out.push(
      step(`ALTER TABLE ${q} ${t.rlsForced ? "FORCE" : "NO FORCE"} ROW LEVEL SECURITY;`, [LOCK]),
    );
  }
  return out;
}

/** REPLICA IDENTITY, from `before`'s (null: a new table's DEFAULT) to `t`'s. */
function replicaIdentitySteps(before: TableObject | null, t: TableObject): SqlStep[] {
  const from = [before?.replicaIdentity ?? null, before?.replicaIdentityIndex ?? null];
  const to = [t.replicaIdentity ?? null, t.replicaIdentityIndex ?? null];
  if (from[0] === to[0] && from[1] === to[1]) return [];
  const q = qname(t.schema, t.name);
  if (t.replicaIdentity !== "index") {
    const what = (t.replicaIdentity ?? "default").toUpperCase();
    return [step(`ALTER TABLE ${q} REPLICA IDENTITY ${what};`, [LOCK])];
  }
  const index = t.replicaIdentityIndex;
  // An identity on an index that was dropped since cannot be written: the proof reports it.
  if (index === undefined) return [];
  return [
    step(`ALTER TABLE ${q} REPLICA IDENTITY USING INDEX ${quoteIdent(index)};`, [LOCK], {
      // The index stands alone or backs a primary key or unique constraint.
      requires: [
        schemaObjectId("index", t.schema, index),
        memberId("constraint", t.schema, t.name, index),
      ],
    }),
  ];
}

/**
 * SET STORAGE / SET STATISTICS of a new table's columns. An inherited column takes its
 * parent's storage when it is made if the parent has it by then: it is set either way.
 */
function columnPhysicalSteps(t: TableObject, ctx: SqlContext): SqlStep[] {
  const parents = [...(t.partitionOf ? [t.partitionOf.parent] : []), ...t.inherits];
  const inherited = ctx.inheritedColumnsOf(t).flatMap((c) => {
    const storageUnknown = parents.some((p) => {
      const pc = ctx.lookup(idOfQualified("column", `${p}.${idPart(c.name)}`));
      return pc?.kind === "column" && pc.storage !== undefined;
    });
    return physicalSteps(c, {}, { storageUnknown });
  });
  return [...ctx.columnsOf(t).flatMap((c) => physicalSteps(c, {})), ...inherited];
}

function createTable(t: TableObject, ctx: SqlContext): SqlStep[] {
  const q = qname(t.schema, t.name);
  const tail: string[] = [];
  if (t.partitionBy) tail.push(`PARTITION BY ${t.partitionBy}`);
  if (t.options.length > 0) tail.push(`WITH (${t.options.map((o) => option(o).text).join(", ")})`);
  const suffix = tail.length > 0 ? ` ${tail.join(" ")}` : "";
  const unlogged = t.persistence === "u" ? "UNLOGGED " : "";
  const own = ctx.columnsOf(t);
  if (t.partitionOf && own.length === 0) {
    // A partition created as such has only its parent's (inherited) columns.
    return [
      step(
        `CREATE ${unlogged}TABLE ${q} PARTITION OF ${parentRef(t.partitionOf.parent, ctx)} ${t.partitionOf.bound}${suffix};`,
      ),
    ];
  }
  const columns = own.map((c) => `    ${columnDefinition(c)}`);
  const body = columns.length > 0 ? `(\n${columns.join(",\n")}\n)` : "()";
  const inherits =
    t.inherits.length > 0
      ? ` INHERITS (${t.inherits.map((p) => parentRef(p, ctx)).join(", ")})`
      : "";
  const out = [step(`CREATE ${unlogged}TABLE ${q} ${body}${inherits}${suffix};`)];
  if (t.partitionOf) {
    // Its columns are its own (it was attached, not created as a partition): attach it the same way.
    const parent = t.partitionOf.parent;
    out.push(
      step(
        `ALTER TABLE ${parentRef(parent, ctx)} ATTACH PARTITION ${q} ${t.partitionOf.bound};`,
        [],
        {
          requires: [idOfQualified("table", parent)],
          afterColumnsOf: [idOfQualified("table", parent)],
          followUp: true,
        },
      ),
    );
  }
  return out;
}

export const tableSql: Converter<TableObject> = {
  create: (t, ctx) => [
    ...createTable(t, ctx),
    ...[...rlsSteps(null, t), ...replicaIdentitySteps(null, t), ...columnPhysicalSteps(t, ctx)].map(
      (s) => ({ ...s, followUp: true }),
    ),
  ],
  drop: (t) => [step(`DROP TABLE ${qname(t.schema, t.name)};`, [LOCK, "deletes-data"])],
  alter: (before, after, ctx) => {
    const q = qname(after.schema, after.name);
    const out: SqlStep[] = [];
    if (before.persistence !== after.persistence) {
      out.push(
        step(`ALTER TABLE ${q} SET ${after.persistence === "u" ? "UNLOGGED" : "LOGGED"};`, [
          LOCK,
          "rewrites-table",
        ]),
      );
    }
    const reset = before.options
      .map(option)
      .filter((o) => !after.options.map((x) => option(x).name).includes(o.name));
    if (reset.length > 0)
      out.push(step(`ALTER TABLE ${q} RESET (${reset.map((o) => o.name).join(", ")});`, [LOCK]));
    const set = after.options.filter((o) => !before.options.includes(o)).map(option);
    if (set.length > 0)
      out.push(step(`ALTER TABLE ${q} SET (${set.map((o) => o.text).join(", ")});`, [LOCK]));
    for (const p of before.inherits.filter((x) => !after.inherits.includes(x))) {
      out.push(step(`ALTER TABLE ${q} NO INHERIT ${parentRef(p, ctx)};`, [LOCK]));
    }
    for (const p of after.inherits.filter((x) => !before.inherits.includes(x))) {
      out.push(
        step(`ALTER TABLE ${q} INHERIT ${parentRef(p, ctx)};`, [LOCK], {
          requires: [idOfQualified("table", p)],
        }),
      );
    }
    const from = before.partitionOf;
    const to = after.partitionOf;
    if (from && (!to || to.parent !== from.parent || to.bound !== from.bound)) {
      out.push(step(`ALTER TABLE ${parentRef(from.parent, ctx)} DETACH PARTITION ${q};`, [LOCK]));
    }
    if (to && (!from || to.parent !== from.parent || to.bound !== from.bound)) {
      // Both tables must have their final shape first: after every column change of either.
      out.push(
        step(
          `ALTER TABLE ${parentRef(to.parent, ctx)} ATTACH PARTITION ${q} ${to.bound};`,
          [LOCK, "may-fail-on-existing-rows"],
          {
            requires: [idOfQualified("table", to.parent)],
            afterColumnsOf: [after.id, idOfQualified("table", to.parent)],
          },
        ),
      );
    }
    out.push(...rlsSteps(before, after), ...replicaIdentitySteps(before, after));
    return out;
  },
  impact: (before, after) => (before.partitionBy !== after.partitionBy ? "recreate" : "in-place"),
};
