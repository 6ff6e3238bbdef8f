import { quoteIdent } from "../../../core/names.ts";
import type {
  PublicationObject,
  PublicationSchemaObject,
  PublicationTableObject,
} from "../../catalog/snapshot.ts";
import { lit, qname } from "./refs.ts";
import { type Converter, step } from "./step.ts";

/** The WITH options; against `before`, only those that differ from it. */
function options(p: PublicationObject, before?: PublicationObject): string {
  const out: string[] = [];
  if (!before || before.publish.join() !== p.publish.join())
    out.push(`publish = ${lit(p.publish.join(", "))}`);
  if (!before || before.viaRoot !== p.viaRoot)
    out.push(`publish_via_partition_root = ${p.viaRoot}`);
  return `(${out.join(", ")})`;
}

export const publicationSql: Converter<PublicationObject> = {
  create: (p) => [
    step(
      `CREATE PUBLICATION ${quoteIdent(p.name)}${p.allTables ? " FOR ALL TABLES" : ""} WITH ${options(p)};`,
    ),
  ],
  drop: (p) => [step(`DROP PUBLICATION ${quoteIdent(p.name)};`)],
  alter: (before, after) => [
    step(`ALTER PUBLICATION ${quoteIdent(after.name)} SET ${options(after, before)};`),
  ],
  // FOR ALL TABLES cannot be altered: the publication is made again (with its memberships).
  impact: (before, after) => (before.allTables !== after.allTables ? "recreate" : "in-place"),
};

/** A table's column list and row filter cannot be altered alone: it leaves and joins again. */
export const publicationTableSql: Converter<PublicationTableObject> = {
  create: (m) => {
    const columns = m.columns ? ` (${m.columns.map(quoteIdent).join(", ")})` : "";
    const where = m.rowFilter !== null ? ` WHERE (${m.rowFilter})` : "";
    return [
      step(
        `ALTER PUBLICATION ${quoteIdent(m.publication)} ADD TABLE ${qname(m.schema, m.table)}${columns}${where};`,
      ),
    ];
  },
  drop: (m) => [
    step(`ALTER PUBLICATION ${quoteIdent(m.publication)} DROP TABLE ${qname(m.schema, m.table)};`),
  ],
  alter: () => [],
  impact: () => "recreate",
};

export const publicationSchemaSql: Converter<PublicationSchemaObject> = {
  create: (m) => [
    step(
      `ALTER PUBLICATION ${quoteIdent(m.publication)} ADD TABLES IN SCHEMA ${quoteIdent(m.schema)};`,
    ),
  ],
  drop: (m) => [
    step(
      `ALTER PUBLICATION ${quoteIdent(m.publication)} DROP TABLES IN SCHEMA ${quoteIdent(m.schema)};`,
    ),
  ],
  alter: () => [],
  impact: () => "recreate",
};
