/**
 * The converters: one per object kind, each turning a create, a drop or an in-place
 * alter of one object into SQL steps. Pure; the plan decides which to call and when.
 */
import type { DbObject } from "../../catalog/snapshot.ts";
import { assertNever } from "../../diff/changes.ts";
import { collationSql } from "./collation.ts";
import { columnSql } from "./column.ts";
import { commentSql } from "./comment.ts";
import { constraintSql, indexSql } from "./constraint.ts";
import { defaultPrivilegeSql } from "./default-privilege.ts";
import { functionSql } from "./function.ts";
import { grantSql } from "./grant.ts";
import { ownerOnly, ownerSql } from "./owner.ts";
import { policySql } from "./policy.ts";
import { publicationSchemaSql, publicationSql, publicationTableSql } from "./publication.ts";
import { rangeSql } from "./range.ts";
import { ruleSql } from "./rule.ts";
import { extensionSql, schemaSql } from "./schema.ts";
import { sequenceSql } from "./sequence.ts";
import { statisticsSql } from "./statistics.ts";
import type { Converter, Impact, SqlContext, SqlStep } from "./step.ts";
import { tableSql } from "./table.ts";
import { eventTriggerSql, triggerSql } from "./trigger.ts";
import { compositeSql, domainSql, enumSql } from "./types.ts";
import { matviewSql, viewSql } from "./view.ts";

export function converter(o: DbObject): Converter<DbObject> {
  switch (o.kind) {
    case "schema":
      return schemaSql;
    case "extension":
      return extensionSql;
    case "collation":
      return collationSql;
    case "enum":
      return enumSql;
    case "domain":
      return domainSql;
    case "composite":
      return compositeSql;
    case "range":
      return rangeSql;
    case "sequence":
      return sequenceSql;
    case "table":
      return tableSql;
    case "column":
      return columnSql;
    case "constraint":
      return constraintSql;
    case "index":
      return indexSql;
    case "view":
      return viewSql;
    case "matview":
      return matviewSql;
    case "function":
      return functionSql;
    case "trigger":
      return triggerSql;
    case "rule":
      return ruleSql;
    case "statistics":
      return statisticsSql;
    case "event_trigger":
      return eventTriggerSql;
    case "publication":
      return publicationSql;
    case "publication_table":
      return publicationTableSql;
    case "publication_schema":
      return publicationSchemaSql;
    case "policy":
      return policySql;
    case "grant":
      return grantSql;
    case "default_privilege":
      return defaultPrivilegeSql;
    case "comment":
      return commentSql;
    default:
      return assertNever(o);
  }
}

// The owner is merged apart from the rest (diff/attributes.ts): every kind gets it after its own statements.
export const createSql = (o: DbObject, ctx: SqlContext): SqlStep[] => [
  ...converter(o).create(o, ctx),
  ...ownerSql(null, o),
];
export const dropSql = (o: DbObject, ctx: SqlContext): SqlStep[] => converter(o).drop(o, ctx);
export const alterSql = (before: DbObject, after: DbObject, ctx: SqlContext): SqlStep[] => [
  ...(ownerOnly(before, after) ? [] : converter(after).alter(before, after, ctx)),
  ...ownerSql(before, after),
];
export const impactOf = (before: DbObject, after: DbObject): Impact =>
  ownerOnly(before, after) ? "in-place" : converter(after).impact(before, after);

export type { Converter, Hazard, Impact, SqlContext, SqlStep } from "./step.ts";
