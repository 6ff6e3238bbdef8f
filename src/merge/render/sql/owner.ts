import { quoteIdent } from "../../../core/names.ts";
import { sameObject } from "../../catalog/equality.ts";
import type { DbObject } from "../../catalog/snapshot.ts";
import { classWord, objectRef } from "./refs.ts";
import { type SqlStep, step } from "./step.ts";

/**
 * ALTER … OWNER TO when the owner changed (or a new object has one). An absent owner is
 * the bootstrap superuser that runs the merge (CURRENT_USER). A sequence OWNED BY a column
 * follows its table's owner (Postgres refuses to change it alone).
 */
export function ownerSql(before: DbObject | null, after: DbObject): SqlStep[] {
  if ((before?.owner ?? null) === (after.owner ?? null)) return [];
  if (after.kind === "sequence" && after.ownedBy) return [];
  const to = after.owner === undefined ? "CURRENT_USER" : quoteIdent(after.owner);
  return [
    step(`ALTER ${classWord(after)} ${objectRef(after)} OWNER TO ${to};`, [], { followUp: true }),
  ];
}

/** True when the two differ in their owner only. */
export function ownerOnly(before: DbObject, after: DbObject): boolean {
  return sameObject({ ...before, owner: after.owner }, after);
}
