import type { DbObject } from "../catalog/snapshot.ts";
import { assertNever } from "./changes.ts";

/**
 * Whether changing `before` into `after` can break an object that reads it (a view using
 * a column, a foreign key referencing a key, a column of an enum type). Only the part
 * readers rely on counts: a new default, an added enum value or a new function body
 * breaks nobody. Kinds must match (one identity is one kind).
 */
export function breaksReaders(before: DbObject, after: DbObject): boolean {
  if (before.kind !== after.kind) return true;
  switch (before.kind) {
    case "column": {
      const a = after as typeof before;
      return (
        before.type !== a.type ||
        before.collation !== a.collation ||
        before.generated !== a.generated ||
        before.generatedKind !== a.generatedKind
      );
    }
    case "enum": {
      // Adding labels is safe; removing or reordering changes what readers compare against.
      const a = after as typeof before;
      const kept = a.values.filter((v) => before.values.includes(v));
      return kept.length !== before.values.length || kept.some((v, i) => v !== before.values[i]);
    }
    case "domain": {
      const a = after as typeof before;
      return before.baseType !== a.baseType || before.collation !== a.collation;
    }
    case "collation":
    case "range":
      // Every field of a collation decides how its readers sort and compare.
      return true;
    case "composite": {
      const a = after as typeof before;
      return before.attributes.some((x) => {
        const now = a.attributes.find((y) => y.name === x.name);
        return !now || now.type !== x.type;
      });
    }
    case "function": {
      const a = after as typeof before;
      return before.returns !== a.returns || before.prokind !== a.prokind;
    }
    case "view":
    case "matview":
      // Its columns are only known through the definition: any new definition may break readers.
      return before.definition !== (after as typeof before).definition;
    case "constraint":
    case "index":
      // A foreign key reads the key (or unique index) it references.
      return before.definition !== (after as typeof before).definition;
    case "table": {
      const a = after as typeof before;
      return before.partitionBy !== a.partitionBy;
    }
    case "schema":
    case "extension":
    case "sequence":
    case "trigger":
    case "rule":
    case "statistics":
    case "event_trigger":
    case "publication":
    case "publication_table":
    case "publication_schema":
    case "policy":
    case "grant":
    case "default_privilege":
    case "comment":
      return false;
    default:
      return assertNever(before);
  }
}
