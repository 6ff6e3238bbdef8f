import { BoughError } from "../../../core/errors.ts";
import { quoteIdent } from "../../../core/names.ts";
import { grantId } from "../../catalog/ids.ts";
import type {
  CompositeObject,
  DomainObject,
  EnumObject,
  FunctionObject,
  GrantObject,
  RangeObject,
} from "../../catalog/snapshot.ts";
import { functionRef, objectRef, roleRef, tableRef } from "./refs.ts";
import { type Converter, type SqlContext, type SqlStep, step } from "./step.ts";

type Level = "none" | "plain" | "grant";

/** privilege → level ("SELECT*" means WITH GRANT OPTION). */
function levels(privileges: string[]): Map<string, Level> {
  const out = new Map<string, Level>();
  for (const p of privileges) {
    if (p.endsWith("*")) out.set(p.slice(0, -1), "grant");
    else if (!out.has(p)) out.set(p, "plain");
  }
  return out;
}

/** `ON TABLE "s"."t"`, plus the column list a column grant puts after each privilege. */
function target(g: GrantObject, ctx: SqlContext): { on: string; columns: string } {
  const obj = ctx.lookup(g.target);
  if (!obj)
    throw new BoughError(
      "INTERNAL",
      `grant ${g.id} names an object not in the snapshot`,
      "report this as a bug",
    );
  switch (obj.kind) {
    case "column":
      return { on: `TABLE ${tableRef(obj)}`, columns: ` (${quoteIdent(obj.name)})` };
    case "sequence":
      return { on: `SEQUENCE ${objectRef(obj)}`, columns: "" };
    case "table":
    case "view":
    case "matview":
      return { on: `TABLE ${objectRef(obj)}`, columns: "" };
    case "function":
      return {
        on: `${obj.prokind === "p" ? "PROCEDURE" : "FUNCTION"} ${functionRef(obj)}`,
        columns: "",
      };
    case "schema":
      return { on: `SCHEMA ${objectRef(obj)}`, columns: "" };
    case "domain":
      return { on: `DOMAIN ${objectRef(obj)}`, columns: "" };
    default:
      return { on: `TYPE ${objectRef(obj)}`, columns: "" };
  }
}

/** Statement texts of one privilege change: what to revoke from, or grant to, the grantee. */
export interface PrivilegeSql {
  revoke: (privileges: string) => string;
  grant: (privileges: string, withGrantOption: boolean) => string;
}

/**
 * REVOKE / GRANT statements that turn `before` privileges into `after` ones; `list` writes
 * the privileges of one statement (a column grant puts the column after each).
 */
export function privilegeSteps(
  before: string[],
  after: string[],
  sql: PrivilegeSql,
  list: (privileges: string[]) => string = (ps) => ps.join(", "),
): SqlStep[] {
  const was = levels(before);
  const now = levels(after);
  const revoke: string[] = [];
  const revokeOption: string[] = [];
  const grant: string[] = [];
  const grantOption: string[] = [];
  for (const p of [...new Set([...was.keys(), ...now.keys()])].sort()) {
    const from = was.get(p) ?? "none";
    const to = now.get(p) ?? "none";
    if (from === to) continue;
    if (to === "none") revoke.push(p);
    else if (to === "plain" && from === "grant") revokeOption.push(p);
    else if (to === "plain") grant.push(p);
    else grantOption.push(p);
  }
  const out: SqlStep[] = [];
  if (revoke.length > 0) out.push(step(sql.revoke(list(revoke))));
  if (revokeOption.length > 0) out.push(step(sql.revoke(`GRANT OPTION FOR ${list(revokeOption)}`)));
  if (grant.length > 0) out.push(step(sql.grant(list(grant), false)));
  if (grantOption.length > 0) out.push(step(sql.grant(list(grantOption), true)));
  return out;
}

/** REVOKE / GRANT statements on the grant's object. */
function changes(before: GrantObject | null, after: GrantObject, ctx: SqlContext): SqlStep[] {
  const { on, columns } = target(after, ctx);
  const who = roleRef(after.grantee);
  return privilegeSteps(
    before?.privileges ?? [],
    after.privileges,
    {
      revoke: (ps) => `REVOKE ${ps} ON ${on} FROM ${who};`,
      grant: (ps, option) => `GRANT ${ps} ON ${on} TO ${who}${option ? " WITH GRANT OPTION" : ""};`,
    },
    (ps) => ps.map((p) => `${p}${columns}`).join(", "),
  );
}

/**
 * Functions and types are created with EXECUTE / USAGE for PUBLIC (acldefault). A new one
 * whose snapshot has no PUBLIC grant had it revoked, so its creation revokes it too:
 * otherwise everyone could call a function the branch kept private.
 */
export function revokeDefaultPublic(
  o: FunctionObject | EnumObject | DomainObject | CompositeObject | RangeObject,
  ctx: SqlContext,
): SqlStep[] {
  if (ctx.lookup(grantId(o.id, PUBLIC))) return [];
  const g: GrantObject = {
    kind: "grant",
    id: grantId(o.id, PUBLIC),
    deps: [o.id],
    targetKind: o.kind === "function" ? "function" : "type",
    target: o.id,
    grantee: PUBLIC,
    privileges: [o.kind === "function" ? "EXECUTE" : "USAGE"],
  };
  return changes(g, { ...g, privileges: [] }, ctx);
}

const PUBLIC = { kind: "public" } as const;

export const grantSql: Converter<GrantObject> = {
  create: (g, ctx) => changes(null, g, ctx),
  drop: (g, ctx) => changes(g, { ...g, privileges: [] }, ctx),
  alter: (before, after, ctx) => changes(before, after, ctx),
  impact: () => "in-place",
};
