import type { Db } from "./store.ts";

/**
 * What a new branch sees of the secrets set on its ancestors: `copy` their values, `empty`
 * (absent), or `mask` (present with a fixed placeholder). Production-only secrets are
 * absent on every branch whatever the policy.
 */
export type SecretsPolicy = "copy" | "empty" | "mask";

export const SECRETS_POLICIES: readonly SecretsPolicy[] = ["copy", "empty", "mask"];

export function projectSecretsPolicy(db: Db, projectId: number): SecretsPolicy {
  const row = db.prepare("SELECT secrets_policy FROM projects WHERE id = ?").get(projectId) as
    | { secrets_policy: SecretsPolicy }
    | undefined;
  return row?.secrets_policy ?? "copy";
}

/** Applies to branches created from now on; existing branches keep the one they were made with. */
export function setProjectSecretsPolicy(db: Db, projectId: number, policy: SecretsPolicy): void {
  db.prepare("UPDATE projects SET secrets_policy = ? WHERE id = ?").run(policy, projectId);
}

/** The policy recorded when the branch was created (a trigger on insert, see store.ts). */
export function branchSecretsPolicy(db: Db, branchId: number): SecretsPolicy {
  const row = db.prepare("SELECT secrets_policy FROM branches WHERE id = ?").get(branchId) as
    | { secrets_policy: SecretsPolicy | null }
    | undefined;
  return row?.secrets_policy ?? "copy";
}
