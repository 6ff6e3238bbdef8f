import { existsSync } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { killCluster, stopCluster } from "../clusters/cluster.ts";
import { cloneStopped } from "../clusters/online-clone.ts";
import { pickFreePort } from "../clusters/ports.ts";
import { removeTree } from "../clusters/remove-tree.ts";
import { branchById, findBranch, reservedPorts, updateBranch } from "../control/branches.ts";
import { advance, beginOperation, finishOperation, type Operation } from "../control/journal.ts";
import { projectById } from "../control/projects.ts";
import { faultPoint } from "../core/fault.ts";
import type { Branch, BranchState, Project } from "../core/types.ts";
import { audited } from "./audited.ts";
import { branchArchiving, startBranch } from "./branch-cluster.ts";
import { reachableUrl } from "./branch-password.ts";
import { clusterOwner } from "./cluster-users.ts";
import type { Ctx } from "./context.ts";
import { createBranchLocked } from "./create.ts";
import { finishDelete } from "./delete.ts";
import { exclusive } from "./exclusive.ts";
import { type BranchInfo, branchInfo } from "./info.ts";
import { beginBranchOperation, requireSettled } from "./journaled.ts";
import { requireBranch, requireProject } from "./lookup.ts";
import { type PointInTime, recoverInto, resolveTarget } from "./pitr.ts";
import { currentLsn, prepareBase, recordBase } from "./pitr-bases.ts";
import { assertNotProtected } from "./protect.ts";

export interface RestoreResult {
  branch: BranchInfo;
  /** The branch as it was before the restore (a new child of it), unless --no-backup. */
  backup: string | null;
  elapsedMs: number;
}

/**
 * `bough branch restore NAME --at TIME | --lsn LSN`: the branch back to its own past, in
 * place (same name, port, keys, T0 and merge base). Its state before the restore is kept
 * as a new child branch NAME-before-restore-<time> unless `backup: false`. The past state
 * is recovered beside the live cluster first; the branch is touched only when that
 * succeeded. Journaled: interrupted before the swap it is rolled back (the branch as it
 * was, no backup, nothing left), after it rolled forward.
 */
async function restoreBranchNow(
  ctx: Ctx,
  o: { project: string; name: string; backup?: boolean } & PointInTime,
): Promise<RestoreResult> {
  const started = performance.now();
  const target = await resolveTarget(o);
  return exclusive(ctx, async () => {
    const project = requireProject(ctx, o.project);
    const branch = requireBranch(ctx, project, o.name);
    requireSettled(branch, "restore it");
    assertNotProtected(branch, "restored");
    const port = await pickFreePort(reservedPorts(ctx.db));
    // The branch stays ready (and is the backup's parent) until the swap.
    const op = beginOperation(ctx.db, {
      projectId: project.id,
      kind: "branch-restore",
      branchName: branch.name,
      args: { branchId: branch.id, state: branch.state },
    });
    const dir = restoreDir(ctx, project, branch, op);
    try {
      advance(ctx.db, op, "recovering", { dir, port });
      await recoverInto(ctx, {
        project,
        source: branch,
        target,
        dataDir: dir,
        port,
        logFile: `${dir}.log`,
        // Promoted on a new timeline: its segments and history file have names of their own.
        archive: await branchArchiving(ctx, project, branch),
        // It becomes the branch's data directory.
        owner: await clusterOwner(ctx, project, branch),
      });
      const lsn = await currentLsn((await reachableUrl(ctx, project, branch, port)).url);
      await stopCluster(ctx.cluster, { dataDir: dir });
      faultPoint("restore:after-recover");
      advance(ctx.db, op, "recovered", { lsn });
      let backup: string | null = null;
      if (o.backup !== false) {
        backup = backupName(branch.name);
        advance(ctx.db, op, "backing-up", { backup });
        await createBranchLocked(ctx, {
          project: project.name,
          name: backup,
          from: branch.name,
          mode: "full",
          switchTo: false,
          started,
        });
        faultPoint("restore:after-backup");
      }
      ctx.db.transaction(() => {
        updateBranch(ctx.db, branch.id, { state: "restoring" });
        advance(ctx.db, op, "swapping");
      })();
    } catch (err) {
      await rollbackRestore(ctx, op);
      throw err;
    }
    await finishRestore(ctx, op);
    return {
      branch: branchInfo(ctx, project, requireBranch(ctx, project, o.name)),
      backup: (op.args.backup as string | undefined) ?? null,
      elapsedMs: performance.now() - started,
    };
  });
}

export const restoreBranch = audited("branch.restore", restoreBranchNow);

/** Branch protection (a flag on the branch row, where present) forbids rewriting its past. */
const restoreDir = (ctx: Ctx, project: Project, branch: Branch, op: Operation) =>
  join(ctx.paths.branchDir(project, branch), `restore-${op.id}`);

/** NAME-before-restore-YYYYMMDD-HHMMSS (UTC), within the 63 characters of a name. */
function backupName(name: string): string {
  const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, "").replace("T", "-");
  const suffix = `-before-restore-${stamp}`;
  return `${name.slice(0, 63 - suffix.length)}${suffix}`;
}

/** Undoes a restore that did not reach the swap: the branch was never touched. */
export async function rollbackRestore(ctx: Ctx, op: Operation): Promise<void> {
  const dir = op.args.dir as string | undefined;
  if (dir) {
    await killCluster(dir);
    await removeTree(dir, ctx.cluster.runAs);
    await rm(`${dir}.log`, { force: true });
  }
  const branch = branchById(ctx.db, op.args.branchId as number);
  const backup = op.args.backup as string | undefined;
  const project = branch && projectById(ctx, branch.projectId);
  const made = project && backup ? findBranch(ctx.db, project.id, backup) : null;
  if (project && made) {
    // Made by this restore, moments ago: nothing can have branched from it.
    const del = beginBranchOperation(ctx, {
      project,
      branch: made,
      kind: "branch-delete",
      state: "deleting",
    });
    await finishDelete(ctx, del);
  }
  ctx.db.transaction(() => {
    if (branch) updateBranch(ctx.db, branch.id, { state: op.args.state as BranchState });
    finishOperation(ctx.db, op, "rolled-back");
  })();
}

/**
 * From the swap on, every step is idempotent and an interrupted restore is finished by
 * running this again: the recovered directory replaces the data directory, a base is
 * taken of it (it is on a new timeline: older bases would replay the discarded history)
 * and the branch starts on its own port.
 */
export async function finishRestore(ctx: Ctx, op: Operation): Promise<void> {
  const branch = branchById(ctx.db, op.args.branchId as number);
  const project = branch && projectById(ctx, branch.projectId);
  if (!branch || !project) {
    finishOperation(ctx.db, op, "failed", "branch vanished");
    return;
  }
  const dir = op.args.dir as string;
  const dataDir = ctx.paths.branchData(project, branch);
  const old = `${dir}.old`;
  if (existsSync(dir)) {
    await stopCluster(ctx.cluster, { dataDir });
    if (existsSync(dataDir)) await rename(dataDir, old);
    await rename(dir, dataDir);
  }
  faultPoint("restore:after-swap");
  advance(ctx.db, op, "swapped");
  await removeTree(old, ctx.cluster.runAs);
  await rm(`${dir}.log`, { force: true });
  const base = await prepareBase(ctx, project, branch, `restore-${op.id}`);
  if (base !== null) {
    const owner = await clusterOwner(ctx, project, branch);
    await cloneStopped({ driver: ctx.driver, src: dataDir, dst: base, owner });
    const lsn = op.args.lsn as string;
    await recordBase(base, { at: new Date().toISOString(), lsn, startLsn: lsn });
  }
  await startBranch(ctx, project, branch);
  ctx.db.transaction(() => {
    updateBranch(ctx.db, branch.id, { state: op.args.state as BranchState, lastError: null });
    finishOperation(ctx.db, op, "done");
  })();
}
