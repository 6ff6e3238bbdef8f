import { updateBranch } from "../control/branches.ts";
import { audited } from "./audited.ts";
import type { Ctx } from "./context.ts";
import { exclusive } from "./exclusive.ts";
import { type BranchInfo, branchInfo } from "./info.ts";
import { requireBranch, requireProject } from "./lookup.ts";

/** `bough branch set NAME --suspend-after D`: the branch's idle timeout (0: never; null: the default). */
function setSuspendAfterNow(
  ctx: Ctx,
  o: { project: string; name: string; suspendAfterMs: number | null },
): Promise<BranchInfo> {
  return exclusive(ctx, async () => {
    const project = requireProject(ctx, o.project);
    const branch = requireBranch(ctx, project, o.name);
    updateBranch(ctx.db, branch.id, { suspendAfterMs: o.suspendAfterMs });
    return branchInfo(ctx, project, requireBranch(ctx, project, o.name));
  });
}

export const setSuspendAfter = audited("branch.set", setSuspendAfterNow);
