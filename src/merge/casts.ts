import type pg from "pg";
import { quoteIdent } from "../core/names.ts";
import type { ColumnObject } from "./catalog/snapshot.ts";
import type { Change } from "./diff/changes.ts";
import { binaryCoercible, conversionCast } from "./render/sql/column.ts";
import { tableRef } from "./render/sql/refs.ts";
import type { Conversions } from "./render/sql/step.ts";

/** A column type change Postgres has no cast for, and the branch gave no USING of its own. */
export interface MissingConversion {
  column: string;
  from: string;
  to: string;
  /** The statement to record as a migration, with the expression left for the author. */
  migration: string;
}

/**
 * The diff's column type changes that cannot run as planned: no USING carried from the
 * branch and no cast from the old type to the new one on the target. Asked of Postgres
 * itself (`EXPLAIN SELECT NULL::old::new` analyses the cast, runs nothing) in a read-only
 * transaction that is rolled back; a type the target lacks yet (created by this merge)
 * is left to the rehearsal.
 */
export async function missingConversions(
  client: pg.ClientBase,
  o: { changes: Change[]; conversions: Conversions },
): Promise<MissingConversion[]> {
  const pairs = o.changes.flatMap((c) =>
    c.type === "alter" &&
    c.before.kind === "column" &&
    c.after.kind === "column" &&
    c.before.type !== c.after.type &&
    !binaryCoercible(c.before.type, c.after.type) &&
    !o.conversions[c.id]
      ? [{ before: c.before, after: c.after }]
      : [],
  );
  if (pairs.length === 0) return [];
  const out: MissingConversion[] = [];
  await client.query("BEGIN READ ONLY");
  try {
    for (const { before, after } of pairs) {
      await client.query("SAVEPOINT cast_check");
      try {
        await client.query(`EXPLAIN SELECT NULL::${before.type}${conversionCast(before, after)}`);
      } catch (err) {
        // 42846 cannot_coerce: no such cast. Anything else (a type created later) is not ours to judge.
        if ((err as { code?: string }).code === "42846") out.push(missing(before, after));
      }
      await client.query("ROLLBACK TO SAVEPOINT cast_check");
    }
  } finally {
    await client.query("ROLLBACK");
  }
  return out;
}

function missing(before: ColumnObject, after: ColumnObject): MissingConversion {
  return {
    column: after.id,
    from: before.type,
    to: after.type,
    migration: `ALTER TABLE ${tableRef(after)} ALTER COLUMN ${quoteIdent(after.name)} TYPE ${after.type} USING <expression of ${quoteIdent(after.name)}>;`,
  };
}

/** What blocks, in words: one line per column. */
export function missingConversionLines(list: MissingConversion[]): string[] {
  return list.map(
    (m) =>
      `${m.column}: no cast from ${m.from} to ${m.to}, and the branch's DDL has no USING for it; add to a migration: ${m.migration}`,
  );
}
