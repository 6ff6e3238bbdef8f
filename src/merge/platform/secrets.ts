import type pg from "pg";
import { byString } from "../diff/changes.ts";

/**
 * The secret keys a database holds for the branch it belongs to (key names only, never a
 * value column): its own, and inherited ones unless production-only (a branch never sees
 * those). Null when the secrets service's table does not exist there.
 */
export async function readSecretKeys(
  client: pg.ClientBase,
  branchId: number,
): Promise<string[] | null> {
  const exists = await client.query<{ ok: boolean }>(
    "SELECT to_regclass('secrets.secrets') IS NOT NULL AS ok",
  );
  if (!exists.rows[0].ok) return null;
  const { rows } = await client.query<{ key: string }>(
    "SELECT key FROM secrets.secrets WHERE set_on_branch = $1 OR NOT production_only",
    [branchId],
  );
  return rows.map((r) => r.key).sort(byString);
}

/** Keys the branch has and the parent lacks (secrets are never merged: the parent needs its own). */
export function secretsMissingOnParent(branch: string[] | null, parent: string[] | null): string[] {
  const have = new Set(parent ?? []);
  return (branch ?? []).filter((k) => !have.has(k));
}
