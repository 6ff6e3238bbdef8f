import { quoteIdent } from "../../../core/names.ts";
import type {
  PublicationObject,
  PublicationSchemaObject,
  PublicationTableObject,
} from "../../catalog/snapshot.ts";
import { lit, qname } from "./refs.ts";
import { type Converter, step } from "./step.ts";

const options = (p: PublicationObject) =>
  `(publish = ${lit(p.publish.join(", "))}, publish_via_partition_root = ${p.viaRoot})`;

export const publicationSql: Converter<PublicationObject> = {
  create: (p) => [
    step(
      `CREATE PUBLICATION ${quoteIdent(p.name)}${p.allTables ? " FOR ALL TABLES" : ""} WITH ${options(p)};`,
    ),
  ],
  drop: (p) => [step(`DROP PUBLICATION ${quoteIdent(p.name)};`)],
  alter: (_before, after) => [
    step(`ALTER PUBLICATION ${quoteIdent(after.name)} SET ${options(after)};`),
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
