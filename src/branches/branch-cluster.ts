import { rm } from "node:fs/promises";
import { dirname } from "node:path";
import {
  clusterPid,
  connectionString,
  killCluster,
  startCluster,
  stopCluster,
} from "../clusters/cluster.ts";
import { isPortFree, pickFreePort } from "../clusters/ports.ts";
import { reservedPorts, updateBranch } from "../control/branches.ts";
import type { Branch, Project } from "../core/types.ts";
import type { Ctx } from "./context.ts";

/** The running cluster of one branch: paths, URL, start and stop. */
export function branchUrl(project: Project, branch: Branch, database = "postgres"): string {
  return connectionString({ port: branch.port, password: project.password, database });
}

export function isRunning(ctx: Ctx, project: Project, branch: Branch): boolean {
  return clusterPid(ctx.paths.branchData(project.name, branch.name)) !== null;
}

/**
 * Starts a branch's cluster (recovering it if it crashed: Postgres replays its WAL).
 * If something else took the branch's port while it was stopped, it moves to a free one.
 */
export async function startBranch(ctx: Ctx, project: Project, branch: Branch): Promise<Branch> {
  const dataDir = ctx.paths.branchData(project.name, branch.name);
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
      logFile: ctx.paths.branchLog(project.name, branch.name),
    });
    branch = { ...branch, port };
  }
  updateBranch(ctx.db, branch.id, { wantRunning: true });
  return { ...branch, wantRunning: true };
}

export async function stopBranch(ctx: Ctx, project: Project, branch: Branch): Promise<void> {
  await stopCluster(ctx.cluster, { dataDir: ctx.paths.branchData(project.name, branch.name) });
  updateBranch(ctx.db, branch.id, { wantRunning: false });
}

/** Kills whatever runs from a branch's directories and removes them; safe to repeat. */
export async function removeBranchFiles(ctx: Ctx, projectName: string, branchName: string) {
  await killCluster(ctx.paths.branchData(projectName, branchName));
  await rm(dirname(ctx.paths.branchData(projectName, branchName)), {
    recursive: true,
    force: true,
  });
}
