import type { RangeObject } from "../../catalog/snapshot.ts";
import { revokeDefaultPublic } from "./grant.ts";
import { qname } from "./refs.ts";
import { type Converter, step } from "./step.ts";

/** CREATE TYPE ... AS RANGE with every option the snapshot holds, its multirange named. */
function createRange(r: RangeObject): string {
  const options = [`SUBTYPE = ${r.subtype}`, `SUBTYPE_OPCLASS = ${r.opclass}`];
  if (r.collation) options.push(`COLLATION = ${r.collation}`);
  if (r.canonical) options.push(`CANONICAL = ${r.canonical}`);
  if (r.subtypeDiff) options.push(`SUBTYPE_DIFF = ${r.subtypeDiff}`);
  options.push(`MULTIRANGE_TYPE_NAME = ${qname(r.multirange.schema, r.multirange.name)}`);
  return `CREATE TYPE ${qname(r.schema, r.name)} AS RANGE (${options.join(", ")});`;
}

/**
 * Postgres cannot alter a range type's definition: a new one is a new type, so every change
 * is a retype (plan/actions.ts): created again, and when columns use it, the old one renamed
 * away (with its multirange), the columns converted through text, the old one dropped.
 */
export const rangeSql: Converter<RangeObject> = {
  create: (r, ctx) => [step(createRange(r)), ...revokeDefaultPublic(r, ctx)],
  // The multirange (and both array types) go with it.
  drop: (r) => [step(`DROP TYPE ${qname(r.schema, r.name)};`)],
  alter: () => [],
  impact: () => "retype",
};
