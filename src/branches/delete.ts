import { killCluster } from "../clusters/cluster.ts";
import { branchById, childrenOf, deleteBranchRow } from "../control/branches.ts";
import {
  advance,
  finishOperation,
  type Operation,
  supersedeOperations,
} from "../control/journal.ts";
import { projectById } from "../control/projects.ts";
import { deleteSetting, getSetting } from "../control/settings.ts";
import { BoughError } from "../core/errors.ts";
import { faultPoint } from "../core/fault.ts";
import type { Branch, Project } from "../core/types.ts";
import { audited } from "./audited.ts";
import { removeBranchFiles } from "./branch-cluster.ts";
import type { Ctx } from "./context.ts";
import { exclusive } from "./exclusive.ts";
import { beginBranchOperation } from "./journaled.ts";
import { removeBranchKeys } from "./keys.ts";
import { currentKey, requireChildBranch } from "./lookup.ts";
import { assertNotProtected } from "./protect.ts";

export interface DeleteOptions {
  project: string;
  name: string;
  recursive?: boolean;
}

/** Deletes a branch: stops its cluster, removes data, T0 clone and port. Returns deleted names. */
function deleteBranchNow(ctx: Ctx, o: DeleteOptions): Promise<string[]> {
  return exclusive(ctx, () => deleteBranchLocked(ctx, o));
}

export const deleteBranch = audited("branch.delete", deleteBranchNow);

/** deleteBranch's work, for operations that already hold the lock (expiry). */
export async function deleteBranchLocked(ctx: Ctx, o: DeleteOptions): Promise<string[]> {
  const { project, branch } = requireChildBranch(ctx, {
    ...o,
    what: "deleted",
    hint: `delete the whole project with \`bough project delete ${o.project}\``,
  });
  const children = childrenOf(ctx.db, branch.id);
  if (children.length > 0 && !o.recursive) {
    throw new BoughError(
      "BRANCH_HAS_CHILDREN",
      `branch "${branch.name}" has child branches: ${children.map((c) => c.name).join(", ")}`,
      "delete them first, or pass --recursive to delete the whole subtree",
    );
  }
  // Checked for the whole subtree first, so a protected descendant stops it before anything goes.
  for (const b of subtree(ctx, branch)) assertNotProtected(b, "deleted");
  const deleted: string[] = [];
  await deleteSubtree(ctx, project, branch, deleted);
  return deleted;
}

function subtree(ctx: Ctx, branch: Branch): Branch[] {
  return [branch, ...childrenOf(ctx.db, branch.id).flatMap((c) => subtree(ctx, c))];
}

async function deleteSubtree(ctx: Ctx, project: Project, branch: Branch, deleted: string[]) {
  for (const child of childrenOf(ctx.db, branch.id)) {
    await deleteSubtree(ctx, project, child, deleted);
  }
  const op = beginBranchOperation(ctx, {
    project,
    branch,
    kind: "branch-delete",
    state: "deleting",
  });
  await finishDelete(ctx, op);
  deleted.push(branch.name);
}

/** Idempotent, so an interrupted delete is finished by running it again. */
export async function finishDelete(ctx: Ctx, op: Operation): Promise<void> {
  const branch = branchById(ctx.db, op.args.branchId as number);
  const project = branch && projectById(ctx, branch.projectId);
  if (branch && project) {
    await killCluster(ctx.paths.branchData(project, branch));
    faultPoint("delete:after-stop");
    advance(ctx.db, op, "stopped");
    await removeBranchFiles(ctx, project, branch);
    await removeBranchKeys(ctx, project, branch);
    faultPoint("delete:after-remove");
    advance(ctx.db, op, "removed");
  }
  ctx.db.transaction(() => {
    // A failed or interrupted operation of this branch (its recovery included) is moot now.
    supersedeOperations(ctx.db, { by: op, branchId: op.args.branchId as number });
    if (branch && project) {
      deleteBranchRow(ctx.db, branch.id);
      if (getSetting(ctx.db, currentKey(project)) === branch.name) {
        deleteSetting(ctx.db, currentKey(project));
      }
    }
    finishOperation(ctx.db, op, "done");
  })();
}
