import { findBranch, updateBranch } from "../control/branches.ts";
import { getSetting, setSetting } from "../control/settings.ts";
import { BoughError } from "../core/errors.ts";
import { validateName } from "../core/names.ts";
import { audited } from "./audited.ts";
import type { Ctx } from "./context.ts";
import { exclusive } from "./exclusive.ts";
import { type BranchInfo, branchInfo } from "./info.ts";
import { requireSettled } from "./journaled.ts";
import { currentKey, requireBranch, requireChildBranch } from "./lookup.ts";

/**
 * `bough branch rename OLD NEW`: one row update. Directories keep the name they were made
 * under (`dirName`) and keys, tokens and armed rows are keyed by id, so the branch keeps
 * running on its port; only its API path (`/p/<project>/b/<name>`) follows the new name.
 * The root branch is refused: scripts and the API name it `main`.
 */
function renameBranchNow(
  ctx: Ctx,
  o: { project: string; name: string; newName: string },
): Promise<BranchInfo> {
  validateName("branch", o.newName);
  return exclusive(ctx, async () => {
    const { project, branch } = requireChildBranch(ctx, {
      ...o,
      what: "renamed",
      hint: "scripts and the API reach the root branch by that name; rename other branches",
    });
    requireSettled(branch, "rename it");
    if (findBranch(ctx.db, project.id, o.newName)) {
      throw new BoughError(
        "BRANCH_EXISTS",
        `branch "${o.newName}" already exists in project "${project.name}"`,
        "pick another name, or delete the existing branch first",
      );
    }
    ctx.db.transaction(() => {
      updateBranch(ctx.db, branch.id, { name: o.newName, dirName: branch.dirName });
      if (getSetting(ctx.db, currentKey(project)) === branch.name) {
        setSetting(ctx.db, currentKey(project), o.newName);
      }
    })();
    return branchInfo(ctx, project, requireBranch(ctx, project, o.newName));
  });
}

/** Audited under the old name, with the new one in the details. */
export const renameBranch = audited("branch.rename", renameBranchNow);
