import type pg from "pg";
import type { Change } from "./diff/changes.ts";
import type { FingerprintProblem } from "./fingerprint/index.ts";
import { classWord, objectRef } from "./render/sql/refs.ts";

type Made = Extract<Change, { type: "create" | "alter" }>;

/** The roles a change makes the target name: a new owner, a default privilege's role and grantee. */
function rolesNamed(c: Made): string[] {
  const o = c.after;
  const named: string[] = [];
  if (o.owner !== undefined && (c.type === "create" || c.before.owner !== o.owner))
    named.push(o.owner);
  if (o.kind === "default_privilege") {
    named.push(o.role);
    if (o.grantee.kind === "role") named.push(o.grantee.name);
  }
  return named;
}

/**
 * Roles are cluster-wide and never merged: a role the branch's changes name (an owner, the
 * role or grantee of default privileges) must already exist on the target, or the merge is
 * refused up front like an unmodelled change (exit 2, 409), never half-way through the apply.
 */
export async function missingRoles(
  client: pg.ClientBase,
  changes: Change[],
): Promise<FingerprintProblem[]> {
  const wanted = new Map<string, Made[]>();
  for (const c of changes) {
    if (c.type !== "create" && c.type !== "alter") continue;
    for (const role of new Set(rolesNamed(c))) wanted.set(role, [...(wanted.get(role) ?? []), c]);
  }
  if (wanted.size === 0) return [];
  const { rows } = await client.query<{ rolname: string }>(
    "SELECT rolname FROM pg_roles WHERE rolname = ANY($1::text[])",
    [[...wanted.keys()]],
  );
  const present = new Set(rows.map((r) => r.rolname));
  return [...wanted.entries()]
    .filter(([role]) => !present.has(role))
    .flatMap(([role, cs]) =>
      cs.map((c) => {
        const owner = c.after.owner === role;
        const what =
          c.after.kind === "default_privilege"
            ? `default privileges ${c.id}`
            : `${classWord(c.after).toLowerCase()} ${objectRef(c.after)}`;
        return {
          key: c.id,
          fields: [owner ? "owner" : "role"],
          details: [`role "${role}" on the branch, no such role on the target`],
          severity: "refuse" as const,
          message: owner
            ? `the branch made role ${role} the owner of ${what}, and the target has no role ${role}: roles are not merged, CREATE ROLE ${role} on the target first`
            : `the branch's ${what} name role ${role}, and the target has no role ${role}: roles are not merged, CREATE ROLE ${role} on the target first`,
        };
      }),
    );
}
