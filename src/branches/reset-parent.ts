import { existsSync } from "node:fs";
import { rename } from "node:fs/promises";
import { killCluster } from "../clusters/cluster.ts";
import { cloneRunning, cloneStopped } from "../clusters/online-clone.ts";
import { removeTree } from "../clusters/remove-tree.ts";
import { branchById, updateBranch } from "../control/branches.ts";
import { advance, finishOperation, type Operation } from "../control/journal.ts";
import { projectById } from "../control/projects.ts";
import { BoughError } from "../core/errors.ts";
import { faultPoint } from "../core/fault.ts";
import type { Branch, BranchState, Project } from "../core/types.ts";
import { branchUrl, startBranch } from "./branch-cluster.ts";
import { clusterOwner } from "./cluster-users.ts";
import type { Ctx } from "./context.ts";
import { beginBranchOperation, requireSettled } from "./journaled.ts";
import { captureBase } from "./merge-base.ts";
import { recordT0Blobs } from "./storage-refs.ts";

// The parent's new copy is built beside the branch's own directories, which keep serving
// until the swap; the replaced ones are kept until the new ones run.
const staged = (dir: string) => `${dir}.new`;
const replaced = (dir: string) => `${dir}.old`;
/** From this step on the reset is rolled forward; before it, rolled back. */
const STAGED = ["staged", "swapped"];

/**
 * Makes a branch a fresh copy of its parent's current state (Neon's "reset from parent"):
 * an online clone of the running parent and a new T0 from it, swapped in for the branch's
 * data and T0. Name, id, port, keys (files keyed by the branch id) and children stay; the
 * merge base becomes the parent's state now. Run under the operation lock.
 */
export async function resetToParent(
  ctx: Ctx,
  o: { project: Project; branch: Branch; parent: Branch },
): Promise<void> {
  const { project, branch, parent } = o;
  requireSettled(parent, "reset a branch from it");
  if (branch.mode !== "full") {
    throw new BoughError(
      "INVALID_INPUT",
      `branch "${branch.name}" is schema-only: reset --to-parent copies the parent's data`,
      `delete it and create it again with \`bough branch create ${branch.name} --from ${parent.name} --mode schema-only\``,
    );
  }
  const op = beginBranchOperation(ctx, {
    project,
    branch,
    kind: "branch-reset-parent",
    state: "resetting",
    // A rollback gives it back its state (merged, conflicted) as well as its data.
    args: { parentId: parent.id, previousState: branch.state },
  });
  try {
    await stage(ctx, { project, branch, parent, op });
  } catch (err) {
    await unstage(ctx, op);
    throw err;
  }
  await finishResetToParent(ctx, op);
}

async function stage(
  ctx: Ctx,
  s: { project: Project; branch: Branch; parent: Branch; op: Operation },
): Promise<void> {
  const dataDir = ctx.paths.branchData(s.project, s.branch);
  const t0Dir = ctx.paths.branchT0(s.project, s.branch);
  for (const dir of [staged(dataDir), staged(t0Dir)]) await removeTree(dir, ctx.cluster.runAs);
  const liveParent = await startBranch(ctx, s.project, s.parent);
  const owner = await clusterOwner(ctx, s.project, s.branch);
  ctx.progress(`cloning ${s.parent.name} (${ctx.driver.name})`);
  const fork = await cloneRunning({
    sourceDataDir: ctx.paths.branchData(s.project, s.parent),
    sourceUrl: branchUrl(s.project, liveParent),
    targetDataDir: staged(dataDir),
    driver: ctx.driver,
    owner,
  });
  faultPoint("reset-parent:after-clone");
  advance(ctx.db, s.op, "cloned", { forkLsn: fork.lsn, forkedAt: fork.at });
  await cloneStopped({
    driver: ctx.driver,
    src: staged(dataDir),
    dst: staged(t0Dir),
    owner,
  });
  faultPoint("reset-parent:after-t0");
  advance(ctx.db, s.op, "staged");
}

/** Rolls back a reset that did not finish staging: the branch never stopped, nothing of it changed. */
async function unstage(ctx: Ctx, op: Operation): Promise<void> {
  const branch = branchById(ctx.db, op.args.branchId as number);
  const project = branch && projectById(ctx, branch.projectId);
  if (branch && project) {
    for (const dir of [
      ctx.paths.branchData(project, branch),
      ctx.paths.branchT0(project, branch),
    ]) {
      await removeTree(staged(dir), ctx.cluster.runAs);
    }
  }
  ctx.db.transaction(() => {
    if (branch) {
      updateBranch(ctx.db, branch.id, {
        state: (op.args.previousState as BranchState | undefined) ?? "ready",
      });
    }
    finishOperation(ctx.db, op, "rolled-back");
  })();
}

/** Recovery: finished forward once staged (the branch may already be stopped), else rolled back. */
export function recoverResetToParent(ctx: Ctx, op: Operation): Promise<void> {
  return STAGED.includes(op.step) ? finishResetToParent(ctx, op) : unstage(ctx, op);
}

/** Puts `staged(dir)` in place of dir; idempotent at every point of the two renames. */
async function swapIn(ctx: Ctx, dir: string): Promise<void> {
  if (!existsSync(staged(dir))) return;
  if (existsSync(dir)) {
    await removeTree(replaced(dir), ctx.cluster.runAs);
    await rename(dir, replaced(dir));
  }
  faultPoint("reset-parent:mid-swap");
  await rename(staged(dir), dir);
}

/** Every step is idempotent, so an interrupted reset is finished by running this again. */
async function finishResetToParent(ctx: Ctx, op: Operation): Promise<void> {
  const branch = branchById(ctx.db, op.args.branchId as number);
  const project = branch && projectById(ctx, branch.projectId);
  if (!branch || !project) {
    finishOperation(ctx.db, op, "failed", "branch vanished");
    return;
  }
  const dataDir = ctx.paths.branchData(project, branch);
  const t0Dir = ctx.paths.branchT0(project, branch);
  if (existsSync(staged(dataDir))) await killCluster(dataDir);
  faultPoint("reset-parent:after-stop");
  await swapIn(ctx, dataDir);
  await swapIn(ctx, t0Dir);
  advance(ctx.db, op, "swapped");
  const live = await startBranch(ctx, project, branch);
  const url = branchUrl(project, live);
  const { base, fingerprint } = await captureBase(url);
  await recordT0Blobs(ctx, project, live, url);
  for (const dir of [dataDir, t0Dir]) await removeTree(replaced(dir), ctx.cluster.runAs);
  faultPoint("reset-parent:before-ready");
  ctx.db.transaction(() => {
    updateBranch(ctx.db, branch.id, {
      state: "ready",
      forkedAt: op.args.forkedAt as string,
      forkLsn: op.args.forkLsn as string,
      t0Base: base,
      mergeBase: base,
      t0Fingerprint: fingerprint,
      baseFingerprint: fingerprint,
      lastError: null,
    });
    finishOperation(ctx.db, op, "done");
  })();
}
