import { existsSync } from "node:fs";
import { chown, mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { archiveSettings } from "../clusters/archive.ts";
import {
  clusterPid,
  connectionString,
  killCluster,
  startCluster,
  stopCluster,
} from "../clusters/cluster.ts";
import { isPortFree, pickFreePort } from "../clusters/ports.ts";
import { removeTree } from "../clusters/remove-tree.ts";
import { reservedPorts, updateBranch } from "../control/branches.ts";
import type { DirRef } from "../core/paths.ts";
import type { Branch, Project } from "../core/types.ts";
import { adoptPassword, branchPassword } from "./branch-password.ts";
import { clusterOwner, dropBranchOwner } from "./cluster-users.ts";
import type { Ctx } from "./context.ts";

/** The running cluster of one branch: paths, URL, start and stop. */
export function branchUrl(project: Project, branch: Branch, database = "postgres"): string {
  return connectionString({
    port: branch.port,
    password: branchPassword(project, branch),
    database,
  });
}

export function isRunning(ctx: Ctx, project: Project, branch: Branch): boolean {
  return clusterPid(ctx.paths.branchData(project, branch)) !== null;
}

/**
 * Whether a branch's postmaster died instead of stopping: it should run, does not, and
 * left its postmaster.pid behind (a clean shutdown removes it; a kill or a power cut
 * does not). A branch stopped cleanly, by `bough up`'s Ctrl-C for instance, is not crashed.
 */
export function hasCrashed(ctx: Ctx, project: Project, branch: Branch, running: boolean): boolean {
  if (!branch.wantRunning || running) return false;
  return existsSync(join(ctx.paths.branchData(project, branch), "postmaster.pid"));
}

/**
 * Starts a branch's cluster (recovering it if it crashed: Postgres replays its WAL).
 * If something else took the branch's port while it was stopped, it moves to a free one.
 */
export async function startBranch(ctx: Ctx, project: Project, branch: Branch): Promise<Branch> {
  const dataDir = ctx.paths.branchData(project, branch);
  if (clusterPid(dataDir) === null) {
    let port = branch.port;
    if (!(await isPortFree(port))) {
      const taken = reservedPorts(ctx.db);
      port = await pickFreePort(taken);
      updateBranch(ctx.db, branch.id, { port });
    }
    await startCluster(ctx.cluster, {
      dataDir,
      port,
      logFile: ctx.paths.branchLog(project, branch),
      verbatim: await branchArchiving(ctx, project, branch),
    });
    branch = { ...branch, port };
    await adoptPassword(ctx, project, branch, port);
  }
  // Only when it changes: the row holds the snapshots (megabytes SQLite would rewrite).
  if (!branch.wantRunning || branch.suspendedAt !== null) {
    updateBranch(ctx.db, branch.id, { wantRunning: true, suspendedAt: null });
  }
  return { ...branch, wantRunning: true, suspendedAt: null };
}

/**
 * Settings that make a branch's postmaster archive every finished WAL segment into the
 * branch's own archive (created here, owned by the branch's user, who runs the copy and
 * is the only one but root who can read or write it).
 * Passed at every start, not written to postgresql.conf: clones copy that file, and a
 * clone must never archive into its parent's directory.
 */
export async function branchArchiving(
  ctx: Ctx,
  project: DirRef,
  branch: DirRef,
): Promise<Record<string, string>> {
  const dir = ctx.paths.branchArchive(project, branch);
  if (!existsSync(dir)) {
    // The branch directory as every other step makes it: the postmaster user traverses it.
    await mkdir(dirname(dir), { recursive: true });
    await mkdir(dir, { mode: 0o700 });
    const owner = await clusterOwner(ctx, project, branch);
    if (owner) await chown(dir, owner.uid, owner.gid);
  }
  return archiveSettings(dir);
}

export async function stopBranch(ctx: Ctx, project: Project, branch: Branch): Promise<void> {
  await stopCluster(ctx.cluster, { dataDir: ctx.paths.branchData(project, branch) });
  updateBranch(ctx.db, branch.id, { wantRunning: false });
}

/**
 * Kills whatever runs from one incarnation's directories and removes them, then its OS
 * user; safe to repeat. The directories and the user are keyed by branch id, so a branch
 * re-created under the same name is never touched.
 */
export async function removeBranchFiles(ctx: Ctx, project: DirRef, branch: DirRef) {
  await killCluster(ctx.paths.branchData(project, branch));
  await removeTree(ctx.paths.branchDir(project, branch), ctx.cluster.runAs);
  await dropBranchOwner(ctx, branch.id);
}
