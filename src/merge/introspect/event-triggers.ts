import type pg from "pg";
import { eventTriggerId, functionId, qualified } from "../catalog/ids.ts";
import type { EventTriggerObject } from "../catalog/snapshot.ts";
import { type IntrospectContext, notExtensionMember, userSchema } from "./context.ts";

interface Row {
  oid: number;
  name: string;
  event: string;
  tags: string[] | null;
  fn_schema: string;
  fn_name: string;
  enabled: "O" | "D" | "R" | "A";
}

/**
 * Event triggers. They are database-wide, so they are left out by their function instead:
 * one whose function lives in an excluded schema (bough's own DDL audit) is bookkeeping.
 */
export async function readEventTriggers(
  client: pg.ClientBase,
  ctx: IntrospectContext,
): Promise<EventTriggerObject[]> {
  const { rows } = await client.query<Row>(
    `SELECT e.oid, e.evtname AS name, e.evtevent AS event, e.evttags AS tags,
            n.nspname AS fn_schema, p.proname AS fn_name, e.evtenabled AS enabled
       FROM pg_event_trigger e
       JOIN pg_proc p ON p.oid = e.evtfoid
       JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE ${userSchema("n")} AND ${notExtensionMember("pg_event_trigger", "e.oid")}`,
    [ctx.excluded],
  );
  return rows.map((r) => {
    const id = eventTriggerId(r.name);
    ctx.ids.add("pg_event_trigger", r.oid, 0, id);
    // Event trigger functions take no arguments, so their identity is S.F().
    return {
      kind: "event_trigger",
      id,
      deps: [functionId(r.fn_schema, r.fn_name, "")],
      name: r.name,
      event: r.event,
      tags: [...(r.tags ?? [])].sort(),
      function: `${qualified(r.fn_schema, r.fn_name)}()`,
      enabled: r.enabled,
    };
  });
}
