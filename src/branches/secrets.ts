import { randomBytes } from "node:crypto";
import { branchById } from "../control/branches.ts";
import { readSecret, writeSecret } from "../control/secrets.ts";
import {
  branchSecretsPolicy,
  projectSecretsPolicy,
  SECRETS_POLICIES,
  type SecretsPolicy,
  setProjectSecretsPolicy,
} from "../control/secrets-policy.ts";
import { projectSecrets } from "../control/store.ts";
import { BoughError } from "../core/errors.ts";
import type { Branch, Project } from "../core/types.ts";
import type { SecretKey } from "../platform/secrets/crypto.ts";
import { validateSecretName } from "../platform/secrets/names.ts";
import {
  listSecrets,
  type SecretEntry,
  type SecretsBranch,
  setSecret,
  unsetSecret,
} from "../platform/secrets/store.ts";
import { audited } from "./audited.ts";
import { withPlatformClient } from "./branch-service.ts";
import type { Ctx } from "./context.ts";
import { exclusive } from "./exclusive.ts";
import { requireBranch, requireProject } from "./lookup.ts";

const keyFile = (project: Project) => `${projectSecrets(project)}/secrets-key`;

/** The project's secrets key (0600 file beside its JWT secret), created on first use. */
export function projectSecretKey(ctx: Ctx, project: Project): SecretKey {
  return { projectId: project.id, key: projectRandomKey(ctx, keyFile(project)) };
}

/** A random 256-bit key kept in a secret file (control/secrets.ts), created on first use. */
export function projectRandomKey(ctx: Ctx, name: string): Buffer {
  let text = readSecret(ctx.paths.secretsDir, name);
  if (text === null) {
    text = randomBytes(32).toString("base64");
    writeSecret(ctx.paths.secretsDir, name, text);
  }
  return Buffer.from(text, "base64");
}

/**
 * What the secrets store needs to decrypt a branch's secrets: the project's key and the
 * branch as the policy sees it. Give both to platform/secrets/store.ts `branchSecretEnv`.
 */
export function secretsAccess(
  ctx: Ctx,
  project: Project,
  branch: Branch,
): { key: SecretKey; branch: SecretsBranch } {
  return {
    key: projectSecretKey(ctx, project),
    branch: {
      id: branch.id,
      parentId: branch.parentId,
      policy: branchSecretsPolicy(ctx.db, branch.id),
    },
  };
}

/** `bough secrets list --json`: never a value. */
export interface SecretListItem {
  key: string;
  productionOnly: boolean;
  inherited: boolean;
  /** Name of the branch the value was set on. */
  source: string;
  updatedAt: string;
  /** What the branch's functions get: the value, the mask, or nothing (the row was altered). */
  exposure: SecretEntry["exposure"];
}

interface On {
  project: string;
  branch: string;
}

function onBranch(ctx: Ctx, o: On): { project: Project; branch: Branch } {
  const project = requireProject(ctx, o.project);
  return { project, branch: requireBranch(ctx, project, o.branch) };
}

function secretsSetNow(
  ctx: Ctx,
  o: On & { key: string; value: string; productionOnly?: boolean },
): Promise<{ key: string; branch: string; productionOnly: boolean }> {
  const key = validateSecretName(o.key);
  return exclusive(ctx, async () => {
    const { project, branch } = onBranch(ctx, o);
    const access = secretsAccess(ctx, project, branch);
    const productionOnly = o.productionOnly === true;
    await withPlatformClient(ctx, project, branch, (c) =>
      setSecret(c, access.key, { branchId: branch.id, key, value: o.value, productionOnly }),
    );
    return { key, branch: branch.name, productionOnly };
  });
}

function secretsUnsetNow(ctx: Ctx, o: On & { key: string }): Promise<{ key: string }> {
  const key = validateSecretName(o.key);
  return exclusive(ctx, async () => {
    const { project, branch } = onBranch(ctx, o);
    const removed = await withPlatformClient(ctx, project, branch, (c) => unsetSecret(c, key));
    if (!removed) {
      throw new BoughError(
        "INVALID_INPUT",
        `branch "${branch.name}" has no secret "${key}"`,
        "run `bough secrets list` to see its secrets",
      );
    }
    return { key };
  });
}

// The secret's name is recorded, never its value (args replaces the options wholesale).
export const secretsSet = audited("secrets.set", secretsSetNow, {
  args: (o) => ({ secret: o.key, productionOnly: o.productionOnly === true }),
});
export const secretsUnset = audited("secrets.unset", secretsUnsetNow, {
  args: (o) => ({ secret: o.key }),
});

export function secretsList(ctx: Ctx, o: On): Promise<SecretListItem[]> {
  return exclusive(ctx, async () => {
    const { project, branch } = onBranch(ctx, o);
    const access = secretsAccess(ctx, project, branch);
    const entries = await withPlatformClient(ctx, project, branch, (c) =>
      listSecrets(c, access.key, access.branch),
    );
    return entries.map((e) => ({
      key: e.key,
      productionOnly: e.productionOnly,
      inherited: e.inherited,
      source: branchById(ctx.db, e.sourceBranchId)?.name ?? `#${e.sourceBranchId}`,
      updatedAt: e.updatedAt,
      exposure: e.exposure,
    }));
  });
}

/** `bough secrets policy [copy|empty|mask]`: shows or sets the policy for new branches. */
function secretsPolicyNow(
  ctx: Ctx,
  o: { project: string; policy?: string },
): Promise<{ project: string; policy: SecretsPolicy }> {
  return exclusive(ctx, async () => {
    const project = requireProject(ctx, o.project);
    if (o.policy !== undefined) {
      if (!SECRETS_POLICIES.includes(o.policy as SecretsPolicy)) {
        throw new BoughError(
          "INVALID_INPUT",
          `unknown secrets policy "${o.policy}"`,
          `use one of: ${SECRETS_POLICIES.join(", ")}`,
        );
      }
      setProjectSecretsPolicy(ctx.db, project.id, o.policy as SecretsPolicy);
    }
    return { project: project.name, policy: projectSecretsPolicy(ctx.db, project.id) };
  });
}

/** Only setting the policy is an action; showing it is a read. */
export const secretsPolicy = audited("secrets.policy", secretsPolicyNow, {
  skip: (o) => o.policy === undefined,
});
