import { existsSync } from "node:fs";
import { join } from "node:path";
import { killCluster } from "../clusters/cluster.ts";
import { cloneStopped } from "../clusters/online-clone.ts";
import { removeTree } from "../clusters/remove-tree.ts";
import { branchById, mergeBaseOf, updateBranch } from "../control/branches.ts";
import { advance, finishOperation, type Operation } from "../control/journal.ts";
import { projectById } from "../control/projects.ts";
import { clearResolutions } from "../control/resolutions.ts";
import { BoughError } from "../core/errors.ts";
import { faultPoint } from "../core/fault.ts";
import type { Branch, Project } from "../core/types.ts";
import { audited } from "./audited.ts";
import { startBranch } from "./branch-cluster.ts";
import { clusterOwner } from "./cluster-users.ts";
import type { Ctx } from "./context.ts";
import { exclusive } from "./exclusive.ts";
import { type BranchInfo, branchInfo } from "./info.ts";
import { beginBranchOperation, requireSettled } from "./journaled.ts";
import { requireBranch, requireChildBranch } from "./lookup.ts";
import { restartHistory } from "./pitr-bases.ts";
import { assertNotProtected } from "./protect.ts";
import { resetToParent } from "./reset-parent.ts";

export interface ResetOptions {
  project: string;
  name: string;
  /** Become a fresh copy of the parent's current state instead of going back to T0. */
  toParent?: boolean;
}

/**
 * Returns a branch to exactly its T0 state: its data directory is replaced by a fresh
 * copy-on-write clone of the frozen T0 clone (O(1) on reflink), then started. With
 * `toParent`, it becomes a copy of its parent as it is now (reset-parent.ts).
 */
function resetBranchNow(ctx: Ctx, o: ResetOptions): Promise<BranchInfo> {
  return exclusive(ctx, async () => {
    const { project, branch, parent } = requireChildBranch(ctx, {
      ...o,
      what: "reset (it has no T0)",
      hint: "reset a branch created with `bough branch create`",
    });
    assertNotProtected(branch, o.toParent ? "reset from its parent" : "reset");
    requireSettled(branch, "reset");
    if (o.toParent) {
      await resetToParent(ctx, { project, branch, parent });
      return branchInfo(ctx, project, requireBranch(ctx, project, o.name));
    }
    // Checked before the branch is touched, so a branch without T0 keeps working.
    requireT0(ctx, project, branch);
    const op = beginBranchOperation(ctx, {
      project,
      branch,
      kind: "branch-reset",
      state: "resetting",
    });
    await finishReset(ctx, op);
    return branchInfo(ctx, project, requireBranch(ctx, project, o.name));
  });
}

export const resetBranch = audited("branch.reset", resetBranchNow);

/**
 * The frozen T0 clone must be there and be a data directory: cloning a missing one
 * would silently give the branch an empty data directory.
 */
function requireT0(ctx: Ctx, project: Project, branch: Branch): void {
  const t0 = ctx.paths.branchT0(project, branch);
  if (!existsSync(join(t0, "PG_VERSION"))) {
    throw new BoughError(
      "T0_MISSING",
      `the T0 clone of branch "${branch.name}" is missing (${t0}): it cannot be reset`,
      `restore ${t0}, or delete the branch and create it again`,
    );
  }
}

/** Every step is idempotent, so an interrupted reset is finished by running this again. */
export async function finishReset(ctx: Ctx, op: Operation): Promise<void> {
  const branch = branchById(ctx.db, op.args.branchId as number);
  const project = branch && projectById(ctx, branch.projectId);
  if (!branch || !project) {
    finishOperation(ctx.db, op, "failed", "branch vanished");
    return;
  }
  requireT0(ctx, project, branch);
  const dataDir = ctx.paths.branchData(project, branch);
  await killCluster(dataDir);
  faultPoint("reset:after-stop");
  advance(ctx.db, op, "stopped");
  await removeTree(dataDir, ctx.cluster.runAs);
  faultPoint("reset:after-remove");
  advance(ctx.db, op, "removed");
  await cloneStopped({
    driver: ctx.driver,
    src: ctx.paths.branchT0(project, branch),
    dst: dataDir,
    owner: await clusterOwner(ctx, project, branch),
  });
  faultPoint("reset:after-clone");
  advance(ctx.db, op, "cloned");
  await restartHistory(ctx, project, branch);
  await startBranch(ctx, project, branch);
  const { t0Base, t0Fingerprint } = mergeBaseOf(ctx.db, branch.id);
  ctx.db.transaction(() => {
    updateBranch(ctx.db, branch.id, {
      state: "ready",
      mergeBase: t0Base,
      baseFingerprint: t0Fingerprint,
      lastError: null,
    });
    // Back at T0: decisions recorded for the branch's conflicts no longer apply.
    clearResolutions(ctx.db, branch.id);
    finishOperation(ctx.db, op, "done");
  })();
}
