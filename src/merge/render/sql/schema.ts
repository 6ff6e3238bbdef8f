import { quoteIdent } from "../../../core/names.ts";
import type { ExtensionObject, SchemaObject } from "../../catalog/snapshot.ts";
import { lit } from "./refs.ts";
import { type Converter, step } from "./step.ts";

export const schemaSql: Converter<SchemaObject> = {
  create: (s) => [step(`CREATE SCHEMA ${quoteIdent(s.name)};`)],
  drop: (s) => [step(`DROP SCHEMA ${quoteIdent(s.name)};`)],
  // A schema has nothing but its name, which is its identity.
  alter: () => [],
  impact: () => "in-place",
};

export const extensionSql: Converter<ExtensionObject> = {
  create: (e) => [
    step(
      `CREATE EXTENSION IF NOT EXISTS ${quoteIdent(e.name)} WITH SCHEMA ${quoteIdent(e.schema)} VERSION ${lit(e.version)};`,
    ),
  ],
  drop: (e) => [step(`DROP EXTENSION ${quoteIdent(e.name)};`)],
  alter: (before, after) => {
    const out = [];
    if (before.schema !== after.schema) {
      out.push(
        step(`ALTER EXTENSION ${quoteIdent(after.name)} SET SCHEMA ${quoteIdent(after.schema)};`),
      );
    }
    if (before.version !== after.version) {
      out.push(
        step(`ALTER EXTENSION ${quoteIdent(after.name)} UPDATE TO ${lit(after.version)};`, [], {
          notes: [
            "fails when the extension ships no update path to this version (downgrades usually have none)",
          ],
        }),
      );
    }
    return out;
  },
  impact: () => "in-place",
};
