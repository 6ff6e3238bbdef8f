import { setSetting } from "../control/settings.ts";
import type { Ctx } from "./context.ts";
import { exclusive, readOnly } from "./exclusive.ts";
import { type BranchInfo, branchInfo } from "./info.ts";
import { currentBranchName, currentKey, requireBranch, requireProject } from "./lookup.ts";

/** Makes a branch the CLI's current one (used when a command's branch argument is left out). */
export function switchBranch(ctx: Ctx, o: { project: string; name: string }): Promise<BranchInfo> {
  return exclusive(ctx, async () => {
    const project = requireProject(ctx, o.project);
    const branch = requireBranch(ctx, project, o.name);
    setSetting(ctx.db, currentKey(project), branch.name);
    return branchInfo(ctx, project, branch);
  });
}

export function currentBranch(ctx: Ctx, o: { project: string }): Promise<string> {
  return readOnly(ctx, () => currentBranchName(ctx, requireProject(ctx, o.project)));
}
