import { quoteIdent } from "../../../core/names.ts";
import type { RuleObject } from "../../catalog/snapshot.ts";
import { bare, tableRef } from "./refs.ts";
import { type Converter, LOCK, type SqlStep, step } from "./step.ts";
import { FIRING } from "./trigger.ts";

// Rules change how every query on the table is rewritten: each statement takes ACCESS EXCLUSIVE.
const enableRule = (r: RuleObject): SqlStep =>
  step(`ALTER TABLE ${tableRef(r)} ${FIRING[r.enabled]} RULE ${quoteIdent(r.name)};`, [LOCK]);

/**
 * A new definition is CREATE OR REPLACE RULE, which keeps the rule's comment and firing
 * mode (views' rules cannot be disabled: they are always "O").
 */
export const ruleSql: Converter<RuleObject> = {
  create: (r) => {
    const out = [step(`${bare(r.definition)};`, [LOCK])];
    if (r.enabled !== "O") out.push({ ...enableRule(r), followUp: true });
    return out;
  },
  drop: (r) => [step(`DROP RULE ${quoteIdent(r.name)} ON ${tableRef(r)};`, [LOCK])],
  alter: (before, after) => {
    const out: SqlStep[] = [];
    if (before.definition !== after.definition)
      out.push(
        step(`${bare(after.definition).replace(/^CREATE RULE/u, "CREATE OR REPLACE RULE")};`, [
          LOCK,
        ]),
      );
    if (before.enabled !== after.enabled) out.push(enableRule(after));
    return out;
  },
  impact: () => "in-place",
};
