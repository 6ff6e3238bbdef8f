import { quoteIdent } from "../../../core/names.ts";
import type { ConstraintObject, IndexObject } from "../../catalog/snapshot.ts";
import { bare, qname, tableRef } from "./refs.ts";
import { type Converter, type Hazard, LOCK, step } from "./step.ts";

/**
 * Constraints are added and dropped, never altered: a changed one is dropped and added.
 * Inherited ones (on partitions and children) come and go with their parent's, and NOT
 * NULL constraints (PG 18) are the column's notNull: neither has statements of its own.
 */
const own = (c: ConstraintObject) => !c.inherited && c.type !== "n";

function addHazards(c: ConstraintObject): Hazard[] {
  // ADD FOREIGN KEY takes SHARE ROW EXCLUSIVE on both tables; the others ACCESS EXCLUSIVE.
  return [c.type === "f" ? "blocks-writes" : LOCK, "may-fail-on-existing-rows"];
}

export const constraintSql: Converter<ConstraintObject> = {
  create: (c) =>
    own(c)
      ? [
          step(
            `ALTER TABLE ${tableRef(c)} ADD CONSTRAINT ${quoteIdent(c.name)} ${c.definition};`,
            addHazards(c),
          ),
        ]
      : [],
  drop: (c) =>
    own(c)
      ? [step(`ALTER TABLE ${tableRef(c)} DROP CONSTRAINT ${quoteIdent(c.name)};`, [LOCK])]
      : [],
  alter: () => [],
  impact: () => "recreate",
};

export const indexSql: Converter<IndexObject> = {
  // pg_get_indexdef never says CONCURRENTLY, so this runs inside the merge's transaction.
  create: (i) => [step(`${bare(i.definition)};`, ["blocks-writes"])],
  drop: (i) => [step(`DROP INDEX ${qname(i.schema, i.name)};`, [LOCK])],
  alter: () => [],
  impact: () => "recreate",
};
