import type pg from "pg";
import type { SecretsPolicy } from "../../control/secrets-policy.ts";
import { type SecretKey, seal, unseal } from "./crypto.ts";

/** The placeholder a `mask` branch sees instead of an inherited value. */
export const MASKED_VALUE = "********";

/** The branch a secrets operation runs on, as the control plane knows it. */
export interface SecretsBranch {
  id: number;
  /** null for main: it sees only what was set on it. */
  parentId: number | null;
  /** The policy recorded when the branch was created. */
  policy: SecretsPolicy;
}

/** How a row is exposed on a branch: its value, the mask, or unreadable (its row was altered). */
export type Exposure = "value" | "masked" | "unreadable";

/** A secret as `bough secrets list` shows it: never its value. */
export interface SecretEntry {
  key: string;
  productionOnly: boolean;
  /** Set on an ancestor (the branch started with it), not on this branch. */
  inherited: boolean;
  /** Control-plane id of the branch it was set on. */
  sourceBranchId: number;
  updatedAt: string;
  exposure: Exposure;
}

interface Row {
  key: string;
  value_encrypted: string;
  production_only: boolean;
  set_on_branch: string;
  updated_at: Date;
}

/**
 * The rows a branch sees and how: its own; inherited ones per its policy (absent under
 * `empty`, and production-only ones always absent). The value is decrypted only to tell
 * whether it is readable, and returned only to branchSecretEnv.
 */
async function visibleRows(
  c: pg.ClientBase,
  k: SecretKey,
  b: SecretsBranch,
): Promise<(SecretEntry & { value: string | null })[]> {
  const r = await c.query<Row>(
    "SELECT key, value_encrypted, production_only, set_on_branch, updated_at FROM secrets.secrets ORDER BY key",
  );
  const out: (SecretEntry & { value: string | null })[] = [];
  for (const row of r.rows) {
    const sourceBranchId = Number(row.set_on_branch);
    const inherited = sourceBranchId !== b.id;
    if (inherited && (b.parentId === null || row.production_only || b.policy === "empty")) continue;
    const value = unseal(
      k,
      { branchId: sourceBranchId, name: row.key, productionOnly: row.production_only },
      row.value_encrypted,
    );
    const exposure: Exposure =
      value === null ? "unreadable" : inherited && b.policy === "mask" ? "masked" : "value";
    out.push({
      key: row.key,
      productionOnly: row.production_only,
      inherited,
      sourceBranchId,
      updatedAt: row.updated_at.toISOString(),
      exposure,
      value: exposure === "value" ? value : exposure === "masked" ? MASKED_VALUE : null,
    });
  }
  return out;
}

/** Sets (or replaces) a secret as the branch's own. */
export async function setSecret(
  c: pg.ClientBase,
  k: SecretKey,
  o: { branchId: number; key: string; value: string; productionOnly: boolean },
): Promise<void> {
  const sealed = seal(
    k,
    { branchId: o.branchId, name: o.key, productionOnly: o.productionOnly },
    o.value,
  );
  await c.query(
    `INSERT INTO secrets.secrets (key, value_encrypted, production_only, set_on_branch, updated_at)
     VALUES ($1, $2, $3, $4, now())
     ON CONFLICT (key) DO UPDATE SET value_encrypted = EXCLUDED.value_encrypted,
       production_only = EXCLUDED.production_only, set_on_branch = EXCLUDED.set_on_branch,
       updated_at = now()`,
    [o.key, sealed, o.productionOnly, o.branchId],
  );
}

/** Removes a secret from this branch (its own or inherited); false when it had none. */
export async function unsetSecret(c: pg.ClientBase, key: string): Promise<boolean> {
  const r = await c.query("DELETE FROM secrets.secrets WHERE key = $1", [key]);
  return (r.rowCount ?? 0) > 0;
}

/** What the branch has, without values. */
export async function listSecrets(
  c: pg.ClientBase,
  k: SecretKey,
  b: SecretsBranch,
): Promise<SecretEntry[]> {
  return (await visibleRows(c, k, b)).map(({ value: _value, ...entry }) => entry);
}

/**
 * The environment a branch's code (its edge functions) gets from its secrets: its own
 * values, inherited ones per its policy (`mask` gives MASKED_VALUE), never a production-only
 * value set on an ancestor, never a row that fails to decrypt. `c` is a connection to the
 * branch's own database (e.g. inside `db.asService`); `k` comes from branches/secrets.ts
 * `secretsAccess`.
 *
 * @example const env = await branchSecretEnv(c, access.key, access.branch) // { STRIPE_KEY: "sk_..." }
 */
export async function branchSecretEnv(
  c: pg.ClientBase,
  k: SecretKey,
  b: SecretsBranch,
): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const row of await visibleRows(c, k, b)) if (row.value !== null) env[row.key] = row.value;
  return env;
}
