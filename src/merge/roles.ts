import type pg from "pg";
import { BoughError } from "../core/errors.ts";
import type { Change } from "./diff/changes.ts";

/**
 * Roles the branch's default-privilege changes name (the role whose defaults they are, a
 * grantee) that the target's cluster lacks. Roles are cluster-wide and never merged, so a
 * role made on the branch is missing on its parent; the merge is refused up front, naming it.
 */
export async function missingRoles(client: pg.ClientBase, changes: Change[]): Promise<string[]> {
  const named = new Set<string>();
  for (const c of changes) {
    const o = c.type === "create" || c.type === "alter" ? c.after : null;
    if (o?.kind !== "default_privilege") continue;
    named.add(o.role);
    if (o.grantee.kind === "role") named.add(o.grantee.name);
  }
  if (named.size === 0) return [];
  const { rows } = await client.query<{ name: string }>(
    "SELECT n AS name FROM unnest($1::text[]) n WHERE NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = n) ORDER BY 1",
    [[...named]],
  );
  return rows.map((r) => r.name);
}

/** Refuses the merge when `missing` is not empty. */
export function refuseMissingRoles(missing: string[]): void {
  if (missing.length === 0) return;
  throw new BoughError(
    "MERGE_FAILED",
    `the branch's default privileges name role(s) the parent's cluster does not have: ${missing.map((r) => JSON.stringify(r)).join(", ")}`,
    "roles are cluster-wide and not merged: create them on the parent first, or undo those default privileges on the branch",
  );
}
