import { updateBranch } from "../control/branches.ts";
import { parseInstant, positiveDuration } from "../core/duration.ts";
import { BoughError } from "../core/errors.ts";
import type { Branch } from "../core/types.ts";
import { audited } from "./audited.ts";
import type { Ctx } from "./context.ts";
import { exclusive } from "./exclusive.ts";
import { type BranchInfo, branchInfo } from "./info.ts";
import { requireBranch, requireProject } from "./lookup.ts";

/** How an expiry is given: a duration from now, an instant, or none. At most one. */
export interface ExpiryInput {
  /** `2s`, `5m`, `2h`, `7d`. */
  expiresIn?: string;
  /** An ISO 8601 instant. */
  expiresAt?: string;
  /** Remove the expiry. */
  noExpiry?: boolean;
}

/**
 * The expiry an input asks for: an ISO instant, null for none, undefined when it says
 * nothing. A root branch never expires, nor does a protected one (refused, not ignored).
 */
export function expiryOf(
  input: ExpiryInput,
  branch: Pick<Branch, "name" | "parentId" | "protected">,
  now = Date.now(),
): string | null | undefined {
  const given = [input.expiresIn, input.expiresAt, input.noExpiry || undefined].filter(
    (v) => v !== undefined,
  );
  if (given.length > 1) {
    throw new BoughError(
      "INVALID_INPUT",
      "give one of --expires-in, --expires-at and --no-expiry",
      "an expiry is either a duration from now, an instant, or none",
    );
  }
  if (input.noExpiry) return null;
  if (input.expiresIn === undefined && input.expiresAt === undefined) return undefined;
  const at =
    input.expiresIn !== undefined
      ? new Date(now + positiveDuration(input.expiresIn, "--expires-in")).toISOString()
      : parseInstant(input.expiresAt as string);
  if (branch.parentId === null) {
    throw new BoughError(
      "INVALID_INPUT",
      `"${branch.name}" is the root branch: it never expires`,
      "set an expiry on a branch created with `bough branch create`",
    );
  }
  if (branch.protected) {
    throw new BoughError(
      "BRANCH_PROTECTED",
      `branch "${branch.name}" is protected: it never expires`,
      `run \`bough branch unprotect ${branch.name}\` first`,
    );
  }
  return at;
}

/** What `bough branch set` can change; each field left out stays as it is. */
export interface SetBranchOptions extends ExpiryInput {
  project: string;
  name: string;
  /** Idle timeout of scale to zero in ms (0: never). */
  suspendAfterMs?: number;
}

/** `bough branch set NAME --expires-in|--expires-at|--no-expiry|--suspend-after`: changes a branch's settings. */
function setBranchNow(ctx: Ctx, o: SetBranchOptions): Promise<BranchInfo> {
  return exclusive(ctx, async () => {
    const project = requireProject(ctx, o.project);
    const branch = requireBranch(ctx, project, o.name);
    // One field per setting: a new setting adds its line here.
    const patch: Parameters<typeof updateBranch>[2] = {};
    const expiresAt = expiryOf(o, branch);
    if (expiresAt !== undefined) patch.expiresAt = expiresAt;
    if (o.suspendAfterMs !== undefined) patch.suspendAfterMs = o.suspendAfterMs;
    if (Object.keys(patch).length === 0) {
      throw new BoughError(
        "INVALID_INPUT",
        "nothing to set",
        "pass --expires-in DURATION, --expires-at TIME, --no-expiry or --suspend-after DURATION|never",
      );
    }
    updateBranch(ctx.db, branch.id, patch);
    return branchInfo(ctx, project, requireBranch(ctx, project, o.name));
  });
}

export const setBranch = audited("branch.set", setBranchNow);
