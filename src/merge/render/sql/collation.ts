import type { CollationObject } from "../../catalog/snapshot.ts";
import { lit, qname } from "./refs.ts";
import { type Converter, step } from "./step.ts";

/** The options of CREATE COLLATION that recreate it: provider, its locale fields, determinism, rules. */
function options(c: CollationObject): string {
  const out = [`provider = ${c.provider}`];
  if (c.provider === "libc") {
    out.push(`lc_collate = ${lit(c.lcCollate ?? "")}`, `lc_ctype = ${lit(c.lcCtype ?? "")}`);
  } else {
    out.push(`locale = ${lit(c.locale ?? "")}`);
  }
  out.push(`deterministic = ${c.deterministic}`);
  if (c.rules !== null) out.push(`rules = ${lit(c.rules)}`);
  return out.join(", ");
}

export const collationSql: Converter<CollationObject> = {
  create: (c) => [step(`CREATE COLLATION ${qname(c.schema, c.name)} (${options(c)});`)],
  drop: (c) => [step(`DROP COLLATION ${qname(c.schema, c.name)};`)],
  // Postgres can only rename a collation or refresh its version: nothing it means changes in place.
  alter: () => [],
  // Like a type in use: renamed away, created again, the columns using it converted, then dropped.
  impact: () => "retype",
};
