import { quoteIdent } from "../../../core/names.ts";
import { idOfQualified, splitQualified } from "../../catalog/ids.ts";
import type { SequenceObject } from "../../catalog/snapshot.ts";
import { objectRef, qname } from "./refs.ts";
import { type Converter, type SqlContext, type SqlStep, step } from "./step.ts";

/** Options in CREATE/ALTER SEQUENCE order; `only` keeps those that differ from `before`. */
function options(s: SequenceObject, before?: SequenceObject): string[] {
  const out: string[] = [];
  const changed = (k: keyof SequenceObject) => !before || before[k] !== s[k];
  if (changed("dataType")) out.push(`AS ${s.dataType}`);
  if (changed("increment")) out.push(`INCREMENT BY ${s.increment}`);
  if (changed("min")) out.push(`MINVALUE ${s.min}`);
  if (changed("max")) out.push(`MAXVALUE ${s.max}`);
  if (changed("start")) out.push(`START WITH ${s.start}`);
  if (changed("cache")) out.push(`CACHE ${s.cache}`);
  if (changed("cycle")) out.push(s.cycle ? "CYCLE" : "NO CYCLE");
  return out;
}

/** OWNED BY needs the column to exist, so it is its own statement after the table's. */
function ownedBy(s: SequenceObject, ctx: SqlContext): SqlStep {
  const q = qname(s.schema, s.name);
  if (s.ownedBy === null) return step(`ALTER SEQUENCE ${q} OWNED BY NONE;`);
  const columnId = idOfQualified("column", s.ownedBy);
  const column = ctx.lookup(columnId);
  const target = column
    ? objectRef(column)
    : (splitQualified(s.ownedBy) ?? [s.ownedBy]).map(quoteIdent).join(".");
  return step(`ALTER SEQUENCE ${q} OWNED BY ${target};`, [], {
    requires: [columnId],
    followUp: true,
  });
}

export const sequenceSql: Converter<SequenceObject> = {
  create: (s, ctx) => {
    const out = [step(`CREATE SEQUENCE ${qname(s.schema, s.name)} ${options(s).join(" ")};`)];
    if (s.ownedBy !== null) out.push(ownedBy(s, ctx));
    return out;
  },
  drop: (s) => [step(`DROP SEQUENCE ${qname(s.schema, s.name)};`)],
  alter: (before, after, ctx) => {
    const out: SqlStep[] = [];
    const opts = options(after, before);
    if (opts.length > 0)
      out.push(step(`ALTER SEQUENCE ${qname(after.schema, after.name)} ${opts.join(" ")};`));
    if (before.ownedBy !== after.ownedBy) out.push(ownedBy(after, ctx));
    return out;
  },
  impact: () => "in-place",
};
