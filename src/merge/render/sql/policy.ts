import { quoteIdent } from "../../../core/names.ts";
import type { PolicyObject } from "../../catalog/snapshot.ts";
import { roleRef, tableRef } from "./refs.ts";
import { type Converter, step } from "./step.ts";

const roles = (p: PolicyObject) =>
  p.roles.length > 0 ? p.roles.map(roleRef).join(", ") : "PUBLIC";

export const policySql: Converter<PolicyObject> = {
  create: (p) => {
    const parts = [
      `CREATE POLICY ${quoteIdent(p.name)} ON ${tableRef(p)}`,
      `AS ${p.permissive ? "PERMISSIVE" : "RESTRICTIVE"}`,
      `FOR ${p.command}`,
      `TO ${roles(p)}`,
    ];
    if (p.using !== null) parts.push(`USING (${p.using})`);
    if (p.withCheck !== null) parts.push(`WITH CHECK (${p.withCheck})`);
    return [step(`${parts.join(" ")};`, ["access-exclusive-lock"])];
  },
  drop: (p) => [
    step(`DROP POLICY ${quoteIdent(p.name)} ON ${tableRef(p)};`, ["access-exclusive-lock"]),
  ],
  alter: (before, after) => {
    const parts = [`ALTER POLICY ${quoteIdent(after.name)} ON ${tableRef(after)}`];
    if (roles(before) !== roles(after)) parts.push(`TO ${roles(after)}`);
    if (before.using !== after.using && after.using !== null) parts.push(`USING (${after.using})`);
    if (before.withCheck !== after.withCheck && after.withCheck !== null)
      parts.push(`WITH CHECK (${after.withCheck})`);
    return [step(`${parts.join(" ")};`, ["access-exclusive-lock"])];
  },
  // ALTER POLICY can change roles and expressions, not the kind, the command, or remove an expression.
  impact: (before, after) =>
    before.permissive !== after.permissive ||
    before.command !== after.command ||
    (before.using !== null && after.using === null) ||
    (before.withCheck !== null && after.withCheck === null)
      ? "recreate"
      : "in-place",
};
