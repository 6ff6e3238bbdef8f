import { stopCluster } from "../clusters/cluster.ts";
import { findBranch, listBranches } from "../control/branches.ts";
import { BoughError } from "../core/errors.ts";
import { audited } from "./audited.ts";
import { isRunning, startBranch, stopBranch } from "./branch-cluster.ts";
import type { Ctx } from "./context.ts";
import { exclusive } from "./exclusive.ts";
import { type BranchInfo, branchInfo } from "./info.ts";
import { requireSettled } from "./journaled.ts";
import { requireBranch, requireProject } from "./lookup.ts";

/** Starts a branch's cluster; a crashed one is recovered by Postgres' own WAL replay. */
function startNow(ctx: Ctx, o: { project: string; name: string }): Promise<BranchInfo> {
  return exclusive(ctx, async () => {
    const project = requireProject(ctx, o.project);
    const branch = requireBranch(ctx, project, o.name);
    if (branch.state === "failed") requireSettled(branch, "start it");
    if (branch.state === "creating" || branch.state === "deleting") {
      throw new BoughError(
        "BRANCH_BAD_STATE",
        `branch "${branch.name}" is ${branch.state}`,
        "wait for that operation to finish",
      );
    }
    const started = await startBranch(ctx, project, branch);
    return branchInfo(ctx, project, started);
  });
}

function stopNow(ctx: Ctx, o: { project: string; name: string }): Promise<BranchInfo> {
  return exclusive(ctx, async () => {
    const project = requireProject(ctx, o.project);
    const branch = requireBranch(ctx, project, o.name);
    await stopBranch(ctx, project, branch);
    return branchInfo(ctx, project, requireBranch(ctx, project, o.name));
  });
}

export const startBranchOp = audited("branch.start", startNow);
export const stopBranchOp = audited("branch.stop", stopNow);

/**
 * Starts a project's main branch and every branch that should be running (crashed
 * ones are recovered). Returns the branches that were not running before.
 */
export function startProject(ctx: Ctx, o: { project: string }): Promise<BranchInfo[]> {
  return exclusive(ctx, async () => {
    const project = requireProject(ctx, o.project);
    const started: BranchInfo[] = [];
    for (const branch of listBranches(ctx.db, project.id)) {
      if (branch.parentId !== null && !branch.wantRunning) continue;
      // Its recovery failed (`bough repair` or delete it): it must not stop `up`.
      if (branch.state === "failed") continue;
      if (isRunning(ctx, project, branch)) continue;
      started.push(branchInfo(ctx, project, await startBranch(ctx, project, branch)));
    }
    return started;
  });
}

/**
 * Stops the given branches (those `bough up` started) cleanly, leaving their wish to
 * run recorded so the next `up` starts them again. Returns the project's branches that
 * are still running (started by other commands while `up` ran): `up` leaves them be.
 */
export function stopBranches(
  ctx: Ctx,
  o: { project: string; names: string[] },
): Promise<{ leftRunning: string[] }> {
  return exclusive(ctx, async () => {
    const project = requireProject(ctx, o.project);
    for (const name of o.names) {
      // A branch deleted while `up` ran has nothing left to stop.
      const branch = findBranch(ctx.db, project.id, name);
      if (branch)
        await stopCluster(ctx.cluster, { dataDir: ctx.paths.branchData(project, branch) });
    }
    const all = listBranches(ctx.db, project.id);
    return { leftRunning: all.filter((b) => isRunning(ctx, project, b)).map((b) => b.name) };
  });
}
