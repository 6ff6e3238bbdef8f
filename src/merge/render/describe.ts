import { quoteIdent } from "../../core/names.ts";
import type { DbObject, TablePolicy } from "../catalog/snapshot.ts";
import { byString, type Row } from "../diff/changes.ts";
import { emptyContext } from "./sql/context.ts";
import { createSql } from "./sql/index.ts";
import { lit, qname, roleRef } from "./sql/refs.ts";

/**
 * The definition of one object as a person reads it in a conflict: the SQL that would
 * create it (tables by their own properties, since their columns are objects of their own).
 */
export function describeObject(o: DbObject | null): string {
  if (!o) return "(absent)";
  switch (o.kind) {
    case "table": {
      const parts = [`TABLE ${qname(o.schema, o.name)}`];
      if (o.persistence === "u") parts.push("UNLOGGED");
      if (o.partitionOf) parts.push(`PARTITION OF ${o.partitionOf.parent} ${o.partitionOf.bound}`);
      if (o.inherits.length > 0) parts.push(`INHERITS (${o.inherits.join(", ")})`);
      if (o.partitionBy) parts.push(`PARTITION BY ${o.partitionBy}`);
      if (o.options.length > 0) parts.push(`WITH (${o.options.join(", ")})`);
      if (o.rlsEnabled) parts.push("ROW LEVEL SECURITY");
      if (o.rlsForced) parts.push("(FORCED)");
      if (o.replicaIdentity) {
        const index = o.replicaIdentityIndex ? ` ${o.replicaIdentityIndex}` : "";
        parts.push(`REPLICA IDENTITY ${o.replicaIdentity.toUpperCase()}${index}`);
      }
      return parts.join(" ");
    }
    case "grant":
      return `GRANT ${o.privileges.map((p) => (p.endsWith("*") ? `${p.slice(0, -1)} (with grant option)` : p)).join(", ")} ON ${o.target} TO ${roleRef(o.grantee)}`;
    case "comment":
      return `COMMENT ON ${o.target} IS ${lit(o.text)}`;
    default:
      return createSql(o, emptyContext)
        .map((s) => s.sql)
        .join("\n");
  }
}

/** A config row as `column = 'value'` lines (excluded columns are never in a row). */
export function describeRow(r: Row | null): string {
  if (!r) return "(absent)";
  const cols = Object.keys(r).sort(byString);
  if (cols.length === 0) return "(no visible columns)";
  return cols
    .map((c) => `${quoteIdent(c)} = ${r[c] === null ? "NULL" : lit(r[c] as string)}`)
    .join("\n");
}

/** One value as SQL reads it, long ones cut (a preview line, not the statement). */
export function cellValue(v: string | null, max = 80): string {
  if (v === null) return "NULL";
  return v.length > max ? `${lit(v.slice(0, max))}… (${v.length} chars)` : lit(v);
}

export function describePolicy(p: TablePolicy | null): string {
  if (!p) return "(absent)";
  const parts = [`policy ${p.policy}`];
  if (p.key.length > 0) parts.push(`key (${p.key.join(", ")})`);
  if (p.excluded.length > 0) parts.push(`excluded (${p.excluded.join(", ")})`);
  return parts.join(", ");
}
