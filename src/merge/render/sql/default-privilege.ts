import { quoteIdent } from "../../../core/names.ts";
import type { DefaultPrivilegeObject } from "../../catalog/snapshot.ts";
import { privilegeSteps } from "./grant.ts";
import { roleRef } from "./refs.ts";
import { type Converter, type SqlStep, step } from "./step.ts";

/**
 * ALTER DEFAULT PRIVILEGES statements that turn one grantee's `before` privileges into
 * `after`. A revoke is marked `early`: objects the plan creates must not receive what the
 * branch took away (their own grants are planned from the snapshot), while a grant runs
 * after them for the same reason.
 */
function changes(before: string[], o: DefaultPrivilegeObject, after: string[]): SqlStep[] {
  const alter = `ALTER DEFAULT PRIVILEGES FOR ROLE ${quoteIdent(o.role)}${o.schema === null ? "" : ` IN SCHEMA ${quoteIdent(o.schema)}`}`;
  const on = `ON ${o.objects.toUpperCase()}`;
  const who = roleRef(o.grantee);
  return privilegeSteps(before, after, {
    revoke: (ps) => `${alter} REVOKE ${ps} ${on} FROM ${who};`,
    grant: (ps, option) =>
      `${alter} GRANT ${ps} ${on} TO ${who}${option ? " WITH GRANT OPTION" : ""};`,
  }).map((s) => (s.sql.startsWith(`${alter} REVOKE`) ? step(s.sql, [], { early: true }) : s));
}

/** Absent means the built-in default, so a create or drop is a change from or back to it. */
export const defaultPrivilegeSql: Converter<DefaultPrivilegeObject> = {
  create: (o) => changes(o.builtin, o, o.privileges),
  drop: (o) => changes(o.privileges, o, o.builtin),
  alter: (before, after) => changes(before.privileges, after, after.privileges),
  impact: () => "in-place",
};
