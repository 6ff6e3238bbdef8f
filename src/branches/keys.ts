import { readSecret, removeSecrets, writeSecret } from "../control/secrets.ts";
import { getSetting, setSetting } from "../control/settings.ts";
import { projectSecrets } from "../control/store.ts";
import { BoughError } from "../core/errors.ts";
import type { Branch, Project } from "../core/types.ts";
import { type BranchKeys, generateBranchKeys, generateJwtSecret } from "../platform/keys/keys.ts";
import { audited } from "./audited.ts";
import type { Ctx } from "./context.ts";
import { exclusive } from "./exclusive.ts";
import { requireBranch, requireProject } from "./lookup.ts";

/** Port `bough up` serves the HTTP API on unless `--port` says otherwise (outside cluster ports). */
export const DEFAULT_API_PORT = 8420;
const API_PORT_SETTING = "api:port";

/** What `bough branch keys NAME --json` prints: a binding contract for scripts. */
export interface BranchKeysResult {
  apiUrl: string;
  publishableKey: string;
  secretKey: string;
}

// Owner-only secret files (control/secrets.ts), beside the project's superuser password.
const keysSecret = (project: Project, branch: Branch) =>
  `${projectSecrets(project)}/branch-${branch.id}-keys.json`;
const jwtSecretName = (project: Project) => `${projectSecrets(project)}/jwt-secret`;

/** The port the API is (or will be) served on: the last `bough up --port`, else the default. */
export function apiPort(ctx: Ctx): number {
  return Number(getSetting(ctx.db, API_PORT_SETTING) ?? DEFAULT_API_PORT);
}

export function setApiPort(ctx: Ctx, port: number): void {
  setSetting(ctx.db, API_PORT_SETTING, String(port));
}

/** Where `bough up` serves a branch: the base URL to give supabase-js' createClient. */
export function apiUrlOf(ctx: Ctx, project: Project, branch: Branch): string {
  return `http://127.0.0.1:${apiPort(ctx)}${branchPathPrefix(project.name, branch.name)}`;
}

/** The URL path prefix that routes a request to a branch. */
export function branchPathPrefix(project: string, branch: string): string {
  return `/p/${encodeURIComponent(project)}/b/${encodeURIComponent(branch)}`;
}

/** A branch's keys, created (randomly) when it has none yet; `rotate` replaces them. */
export async function ensureBranchKeys(
  ctx: Ctx,
  project: Project,
  branch: Branch,
  o: { rotate?: boolean } = {},
): Promise<BranchKeys> {
  const name = keysSecret(project, branch);
  const text = o.rotate ? null : readSecret(ctx.paths.secretsDir, name);
  if (text !== null) return JSON.parse(text) as BranchKeys;
  const keys = generateBranchKeys();
  writeSecret(ctx.paths.secretsDir, name, JSON.stringify(keys));
  return keys;
}

/** A branch's keys as they are on disk now (null when it has none yet): read per request, so a rotation elsewhere takes effect at once. */
export async function currentBranchKeys(
  ctx: Ctx,
  project: Project,
  branch: Branch,
): Promise<BranchKeys | null> {
  const text = readSecret(ctx.paths.secretsDir, keysSecret(project, branch));
  return text === null ? null : (JSON.parse(text) as BranchKeys);
}

/** The project's token-signing secret (kept outside every database), created when absent. */
export async function projectJwtSecret(ctx: Ctx, project: Project): Promise<Uint8Array> {
  const existing = await currentJwtSecret(ctx, project);
  if (existing) return existing;
  const secret = generateJwtSecret();
  writeSecret(ctx.paths.secretsDir, jwtSecretName(project), secret);
  return new TextEncoder().encode(secret);
}

/** The project's token-signing secret, or null when it has none yet. */
export async function currentJwtSecret(ctx: Ctx, project: Project): Promise<Uint8Array | null> {
  const secret = readSecret(ctx.paths.secretsDir, jwtSecretName(project));
  return secret === null ? null : new TextEncoder().encode(secret);
}

/** A project's keys go with its other secrets (removeProjectSecrets). */
export async function removeBranchKeys(ctx: Ctx, project: Project, branch: Branch): Promise<void> {
  removeSecrets(ctx.paths.secretsDir, keysSecret(project, branch));
}

/** `bough branch keys NAME [--rotate]`: the branch's API URL and keys (rotated first if asked). */
function branchKeysNow(
  ctx: Ctx,
  o: { project: string; name: string; rotate?: boolean },
): Promise<BranchKeysResult> {
  return exclusive(ctx, async () => {
    const project = requireProject(ctx, o.project);
    const branch = requireBranch(ctx, project, o.name);
    if (branch.state === "creating" || branch.state === "deleting") {
      throw new BoughError(
        "BRANCH_BAD_STATE",
        `branch "${branch.name}" is ${branch.state}`,
        "wait for that operation to finish",
      );
    }
    const keys = await ensureBranchKeys(ctx, project, branch, { rotate: o.rotate });
    return { apiUrl: apiUrlOf(ctx, project, branch), ...keys };
  });
}

/** A rotation is an action (audited); reading the keys is not. */
export const branchKeys = audited("branch.keys.rotate", branchKeysNow, { skip: (o) => !o.rotate });
