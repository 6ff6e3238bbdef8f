import { quoteIdent } from "../../../core/names.ts";
import type { ColumnObject } from "../../catalog/snapshot.ts";
import { identityClause, identitySetOptions } from "./identity.ts";
import { tableRef } from "./refs.ts";
import { type Converter, type Hazard, LOCK, type SqlContext, type SqlStep, step } from "./step.ts";

/** `"c" type [COLLATE x] [GENERATED ...] [DEFAULT ...] [NOT NULL]`, as in CREATE TABLE and ADD COLUMN. */
export function columnDefinition(c: ColumnObject): string {
  const parts = [quoteIdent(c.name), c.type];
  if (c.collation) parts.push(`COLLATE ${c.collation}`);
  if (c.generated !== null) {
    parts.push(
      `GENERATED ALWAYS AS (${c.generated}) ${c.generatedKind === "virtual" ? "VIRTUAL" : "STORED"}`,
    );
  }
  if (c.identity) parts.push(identityClause(c));
  if (c.default !== null && c.generated === null) parts.push(`DEFAULT ${c.default}`);
  if (c.notNull) parts.push("NOT NULL");
  return parts.join(" ");
}

// Defaults Postgres must compute per row (volatile), so adding the column rewrites the table.
const VOLATILE =
  /\b(nextval|random|gen_random_uuid|uuid_generate_v[14]|clock_timestamp|timeofday|txid_current)\s*\(/iu;

function addColumnHazards(c: ColumnObject): Hazard[] {
  const out: Hazard[] = [LOCK];
  const filled =
    c.identity !== null ||
    c.generatedKind === "stored" ||
    (c.default !== null && VOLATILE.test(c.default));
  if (filled) out.push("rewrites-table");
  if (c.notNull && c.default === null && c.identity === null && c.generated === null) {
    out.push("may-fail-on-existing-rows");
  }
  return out;
}

const RENAME_NOTE =
  "a rename cannot be told from a drop and an add: if this column was renamed, merge with --rename column:SCHEMA.TABLE.OLD=NEW or record the rename as a migration (bough migrate), so its data is kept";

const alterColumn = (c: ColumnObject, action: string) =>
  `ALTER TABLE ${tableRef(c)} ALTER COLUMN ${quoteIdent(c.name)} ${action};`;

/**
 * SET STORAGE / SET STATISTICS from what the column has (`have`) to what it should. ONLY:
 * each inherited column has its own value in the snapshot and its own statement.
 */
export function physicalSteps(
  c: ColumnObject,
  have: { storage?: ColumnObject["storage"]; statisticsTarget?: number },
  o: { only?: boolean; storageUnknown?: boolean } = {},
): SqlStep[] {
  const out: SqlStep[] = [];
  const only = o.only === false ? "" : "ONLY ";
  const set = (action: string) =>
    step(`ALTER TABLE ${only}${tableRef(c)} ALTER COLUMN ${quoteIdent(c.name)} ${action};`, [LOCK]);
  if (c.storage !== have.storage || o.storageUnknown)
    out.push(set(`SET STORAGE ${(c.storage ?? "default").toUpperCase()}`));
  if (c.statisticsTarget !== have.statisticsTarget)
    out.push(set(`SET STATISTICS ${c.statisticsTarget ?? -1}`));
  return out;
}

/** varchar widening and varchar ↔ text keep the stored bytes: no rewrite, no failure. */
export function binaryCoercible(from: string, to: string): boolean {
  const vc = /^character varying(?:\((\d+)\))?$/u;
  const f = vc.exec(from);
  if (f && to === "text") return true;
  if (from === "text" && to === "character varying") return true;
  const t = vc.exec(to);
  if (!f || !t) return false;
  if (t[1] === undefined) return true;
  return f[1] !== undefined && Number(t[1]) >= Number(f[1]);
}

/**
 * The cast a type change uses without a USING of the branch's own: between user types
 * (enums of different names, domains, composites) only text casts both ways.
 */
export function conversionCast(before: ColumnObject, after: ColumnObject): string {
  const viaText =
    after.type !== "text" &&
    [...before.deps, ...after.deps].some((id) => /^(enum|domain|composite):/u.test(id));
  return viaText
    ? `::${after.type.endsWith("[]") ? "text[]" : "text"}::${after.type}`
    : `::${after.type}`;
}

function typeStep(before: ColumnObject, after: ColumnObject, ctx: SqlContext): SqlStep {
  const collate = after.collation ? ` COLLATE ${after.collation}` : "";
  const cheap = before.type === after.type || binaryCoercible(before.type, after.type);
  const hazards: Hazard[] = cheap ? [LOCK] : [LOCK, "rewrites-table", "may-fail-on-existing-rows"];
  if (before.type === after.type)
    return step(alterColumn(after, `TYPE ${after.type}${collate}`), hazards);
  const carried = ctx.conversionOf?.(after.id);
  const using = carried
    ? `(${carried.using})`
    : `${quoteIdent(after.name)}${conversionCast(before, after)}`;
  return step(alterColumn(after, `TYPE ${after.type}${collate} USING ${using}`), hazards, {
    notes: carried ? [`USING as the branch ran it (${carried.source})`] : [],
  });
}

export const columnSql: Converter<ColumnObject> = {
  // Not ONLY: the columns ADD COLUMN makes in inheriting tables take the same values.
  create: (c) => [
    step(`ALTER TABLE ${tableRef(c)} ADD COLUMN ${columnDefinition(c)};`, addColumnHazards(c)),
    ...physicalSteps(c, {}, { only: false }),
  ],
  drop: (c) => [
    step(`ALTER TABLE ${tableRef(c)} DROP COLUMN ${quoteIdent(c.name)};`, [LOCK, "deletes-data"], {
      notes: [RENAME_NOTE],
    }),
  ],
  alter: (before, after, ctx) => {
    const out: SqlStep[] = [];
    const retyped = before.type !== after.type || before.collation !== after.collation;
    const defaultChanged = before.default !== after.default;
    if (before.identity && !after.identity)
      out.push(step(alterColumn(after, "DROP IDENTITY"), [LOCK]));
    if (before.generated !== null && after.generated === null) {
      out.push(step(alterColumn(after, "DROP EXPRESSION"), [LOCK, "rewrites-table"]));
    }
    // An old default may not cast to the new type: drop it first, set the new one after.
    if (before.default !== null && (defaultChanged || retyped))
      out.push(step(alterColumn(after, "DROP DEFAULT"), [LOCK]));
    if (retyped) out.push(typeStep(before, after, ctx));
    if (!before.notNull && after.notNull) {
      out.push(step(alterColumn(after, "SET NOT NULL"), [LOCK, "may-fail-on-existing-rows"]));
    }
    if (!before.identity && after.identity) {
      out.push(step(alterColumn(after, `ADD ${identityClause(after)}`), [LOCK]));
    } else if (before.identity && after.identity) {
      const kind =
        before.identity !== after.identity
          ? `SET GENERATED ${after.identity === "always" ? "ALWAYS" : "BY DEFAULT"}`
          : null;
      const actions = [kind, identitySetOptions(before, after)].filter((a) => a !== null);
      if (actions.length > 0) out.push(step(alterColumn(after, actions.join(" ")), [LOCK]));
    }
    if (after.default !== null && after.generated === null && (defaultChanged || retyped)) {
      out.push(step(alterColumn(after, `SET DEFAULT ${after.default}`), [LOCK]));
    }
    if (before.notNull && !after.notNull)
      out.push(step(alterColumn(after, "DROP NOT NULL"), [LOCK]));
    // A new type (or collation) brings its own storage.
    const storage = retyped ? undefined : before.storage;
    out.push(...physicalSteps(after, { storage, statisticsTarget: before.statisticsTarget }));
    return out;
  },
  impact: (before, after) => {
    const generatedChanged =
      before.generated !== after.generated || before.generatedKind !== after.generatedKind;
    // Only a STORED expression can be dropped in place (PG 13+); any other change re-adds the column.
    if (generatedChanged && !(after.generated === null && before.generatedKind !== "virtual"))
      return "recreate";
    if (before.type !== after.type || before.collation !== after.collation) return "reshape";
    return "in-place";
  },
};
