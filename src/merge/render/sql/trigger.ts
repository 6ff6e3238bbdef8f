import { quoteIdent } from "../../../core/names.ts";
import { splitQualified } from "../../catalog/ids.ts";
import type { EventTriggerObject, TriggerObject } from "../../catalog/snapshot.ts";
import { bare, lit, qname, tableRef } from "./refs.ts";
import { type Converter, type SqlContext, type SqlStep, step } from "./step.ts";

/** ALTER TABLE words for each firing mode of a trigger or rule. */
export const FIRING: Record<TriggerObject["enabled"], string> = {
  O: "ENABLE",
  D: "DISABLE",
  R: "ENABLE REPLICA",
  A: "ENABLE ALWAYS",
};

const enableTrigger = (t: TriggerObject): SqlStep =>
  step(`ALTER TABLE ${tableRef(t)} ${FIRING[t.enabled]} TRIGGER ${quoteIdent(t.name)};`, [
    "blocks-writes",
  ]);

export const triggerSql: Converter<TriggerObject> = {
  create: (t) => {
    const out = [step(`${bare(t.definition)};`, ["blocks-writes"])];
    if (t.enabled !== "O") out.push({ ...enableTrigger(t), followUp: true });
    return out;
  },
  drop: (t) => [
    step(`DROP TRIGGER ${quoteIdent(t.name)} ON ${tableRef(t)};`, ["access-exclusive-lock"]),
  ],
  alter: (_before, after) => [enableTrigger(after)],
  impact: (before, after) => (before.definition !== after.definition ? "recreate" : "in-place"),
};

/** The trigger's function, named through the snapshot, else from its qualified name "S.F()". */
function functionName(e: EventTriggerObject, ctx: SqlContext): string {
  const fn = e.deps.map((id) => ctx.lookup(id)).find((o) => o?.kind === "function");
  if (fn?.kind === "function") return `${qname(fn.schema, fn.name)}()`;
  const names = splitQualified(e.function.replace(/\(\)$/u, ""));
  return names ? `${names.map(quoteIdent).join(".")}()` : e.function;
}

const enableEvent = (e: EventTriggerObject) =>
  step(`ALTER EVENT TRIGGER ${quoteIdent(e.name)} ${FIRING[e.enabled]};`);

export const eventTriggerSql: Converter<EventTriggerObject> = {
  create: (e, ctx) => {
    const when = e.tags.length > 0 ? ` WHEN TAG IN (${e.tags.map(lit).join(", ")})` : "";
    const out = [
      step(
        `CREATE EVENT TRIGGER ${quoteIdent(e.name)} ON ${e.event}${when} EXECUTE FUNCTION ${functionName(e, ctx)};`,
      ),
    ];
    if (e.enabled !== "O") out.push({ ...enableEvent(e), followUp: true });
    return out;
  },
  drop: (e) => [step(`DROP EVENT TRIGGER ${quoteIdent(e.name)};`)],
  alter: (_before, after) => [enableEvent(after)],
  impact: (before, after) =>
    before.event !== after.event ||
    before.function !== after.function ||
    before.tags.join() !== after.tags.join()
      ? "recreate"
      : "in-place",
};
