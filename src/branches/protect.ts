import { updateBranch } from "../control/branches.ts";
import { BoughError } from "../core/errors.ts";
import type { Branch } from "../core/types.ts";
import { audited } from "./audited.ts";
import type { Ctx } from "./context.ts";
import { exclusive } from "./exclusive.ts";
import { type BranchInfo, branchInfo } from "./info.ts";
import { requireBranch, requireProject } from "./lookup.ts";

/**
 * Refuses a destructive action (reset, restore, delete, run_sql writes) on a protected
 * branch, naming the way out. The one check every such operation calls.
 *
 * @example assertNotProtected(branch, "reset")
 */
export function assertNotProtected(branch: Branch, action: string): void {
  if (!branch.protected) return;
  throw new BoughError(
    "BRANCH_PROTECTED",
    `branch "${branch.name}" is protected: it cannot be ${action}`,
    `run \`bough branch unprotect ${branch.name}\` first if you really mean it`,
  );
}

function setProtection(protect: boolean) {
  return (ctx: Ctx, o: { project: string; name: string }): Promise<BranchInfo> =>
    exclusive(ctx, async () => {
      const project = requireProject(ctx, o.project);
      const branch = requireBranch(ctx, project, o.name);
      // A protected branch never expires: protecting one drops its expiry.
      updateBranch(
        ctx.db,
        branch.id,
        protect ? { protected: true, expiresAt: null } : { protected: false },
      );
      return branchInfo(ctx, project, requireBranch(ctx, project, o.name));
    });
}

/** `bough branch protect NAME`: refuse reset, restore, delete and agent writes on it. */
export const protectBranch = audited("branch.protect", setProtection(true));
/** `bough branch unprotect NAME`. */
export const unprotectBranch = audited("branch.unprotect", setProtection(false));
