import { quoteIdent } from "../../../core/names.ts";
import type { CompositeObject, DomainObject, EnumObject } from "../../catalog/snapshot.ts";
import { isSubsequence } from "../../diff/attributes.ts";
import { revokeDefaultPublic } from "./grant.ts";
import { lit, qname } from "./refs.ts";
import { type Converter, type SqlStep, step } from "./step.ts";

export const enumSql: Converter<EnumObject> = {
  create: (e, ctx) => [
    step(`CREATE TYPE ${qname(e.schema, e.name)} AS ENUM (${e.values.map(lit).join(", ")});`),
    ...revokeDefaultPublic(e, ctx),
  ],
  drop: (e) => [step(`DROP TYPE ${qname(e.schema, e.name)};`)],
  alter: (before, after) =>
    addedLabels(before.values, after.values).map((a) =>
      step(a.sql(qname(after.schema, after.name)), [], { addsLabel: a.label }),
    ),
  // Postgres can add labels in place, never remove or reorder them.
  impact: (before, after) => (isSubsequence(before.values, after.values) ? "in-place" : "retype"),
};

/** ADD VALUE statements, in order, each placed next to a label that already exists. */
export function addedLabels(
  before: string[],
  after: string[],
): { label: string; sql: (type: string) => string }[] {
  const present = new Set(before);
  const out: { label: string; sql: (type: string) => string }[] = [];
  after.forEach((label, i) => {
    if (present.has(label)) return;
    const where =
      i > 0 ? ` AFTER ${lit(after[i - 1])}` : before.length > 0 ? ` BEFORE ${lit(before[0])}` : "";
    out.push({ label, sql: (type) => `ALTER TYPE ${type} ADD VALUE ${lit(label)}${where};` });
    present.add(label);
  });
  return out;
}

export const domainSql: Converter<DomainObject> = {
  create: (d, ctx) => {
    const parts = [`CREATE DOMAIN ${qname(d.schema, d.name)} AS ${d.baseType}`];
    if (d.collation) parts.push(`COLLATE ${d.collation}`);
    if (d.default !== null) parts.push(`DEFAULT ${d.default}`);
    if (d.notNull) parts.push("NOT NULL");
    for (const name of Object.keys(d.checks).sort())
      parts.push(`CONSTRAINT ${quoteIdent(name)} ${d.checks[name]}`);
    return [step(`${parts.join(" ")};`), ...revokeDefaultPublic(d, ctx)];
  },
  drop: (d) => [step(`DROP DOMAIN ${qname(d.schema, d.name)};`)],
  alter: (before, after) => {
    const q = qname(after.schema, after.name);
    const out: SqlStep[] = [];
    for (const name of Object.keys(before.checks).sort()) {
      if (before.checks[name] !== after.checks[name]) {
        out.push(step(`ALTER DOMAIN ${q} DROP CONSTRAINT ${quoteIdent(name)};`));
      }
    }
    if (before.default !== after.default) {
      out.push(
        step(
          after.default === null
            ? `ALTER DOMAIN ${q} DROP DEFAULT;`
            : `ALTER DOMAIN ${q} SET DEFAULT ${after.default};`,
        ),
      );
    }
    if (before.notNull !== after.notNull) {
      out.push(
        after.notNull
          ? step(`ALTER DOMAIN ${q} SET NOT NULL;`, ["may-fail-on-existing-rows"])
          : step(`ALTER DOMAIN ${q} DROP NOT NULL;`),
      );
    }
    for (const name of Object.keys(after.checks).sort()) {
      if (before.checks[name] !== after.checks[name]) {
        out.push(
          step(`ALTER DOMAIN ${q} ADD CONSTRAINT ${quoteIdent(name)} ${after.checks[name]};`, [
            "may-fail-on-existing-rows",
          ]),
        );
      }
    }
    return out;
  },
  impact: (before, after) =>
    before.baseType !== after.baseType || before.collation !== after.collation
      ? "retype"
      : "in-place",
};

export const compositeSql: Converter<CompositeObject> = {
  create: (c, ctx) => [
    step(
      `CREATE TYPE ${qname(c.schema, c.name)} AS (${c.attributes.map((a) => `${quoteIdent(a.name)} ${a.type}`).join(", ")});`,
    ),
    ...revokeDefaultPublic(c, ctx),
  ],
  drop: (c) => [step(`DROP TYPE ${qname(c.schema, c.name)};`)],
  alter: (before, after) => {
    const q = qname(after.schema, after.name);
    const out: SqlStep[] = [];
    const now = new Map(after.attributes.map((a) => [a.name, a.type]));
    const was = new Map(before.attributes.map((a) => [a.name, a.type]));
    for (const a of before.attributes) {
      if (!now.has(a.name)) out.push(step(`ALTER TYPE ${q} DROP ATTRIBUTE ${quoteIdent(a.name)};`));
    }
    for (const a of after.attributes) {
      const old = was.get(a.name);
      if (old === undefined)
        out.push(step(`ALTER TYPE ${q} ADD ATTRIBUTE ${quoteIdent(a.name)} ${a.type};`));
    }
    return out;
  },
  // Attributes can be dropped and appended in place; a new type of an attribute in use, or a
  // new order, needs a new type (Postgres refuses ALTER ATTRIBUTE TYPE while a column uses it).
  impact: (before, after) => {
    const was = new Map(before.attributes.map((a) => [a.name, a.type]));
    const names = after.attributes.map((a) => a.name);
    const kept = before.attributes.map((a) => a.name).filter((n) => names.includes(n));
    const added = names.filter((n) => !kept.includes(n));
    const retyped = after.attributes.some((a) => was.has(a.name) && was.get(a.name) !== a.type);
    return !retyped && [...kept, ...added].join("\u0000") === names.join("\u0000")
      ? "in-place"
      : "retype";
  },
};
