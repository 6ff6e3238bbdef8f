import { listBranches } from "../control/branches.ts";
import type { Branch, BranchMode, BranchState, Project } from "../core/types.ts";
import { branchUrl, hasCrashed, isRunning } from "./branch-cluster.ts";
import type { Ctx } from "./context.ts";

/** What every interface shows about a branch (stable camelCase fields for --json). */
export interface BranchInfo {
  name: string;
  project: string;
  parent: string | null;
  mode: BranchMode;
  /** Its user data and auth users were masked (`branch create --mask`). */
  masked: boolean;
  state: BranchState;
  running: boolean;
  /** Wanted running but its postmaster died (not stopped cleanly); `branch start` recovers it. */
  crashed: boolean;
  port: number;
  createdAt: string;
  forkedAt: string | null;
  forkLsn: string | null;
  lastError: string | null;
  connectionString: string;
}

export function branchInfo(ctx: Ctx, project: Project, branch: Branch, all?: Branch[]): BranchInfo {
  const siblings = all ?? listBranches(ctx.db, project.id);
  const parent = siblings.find((b) => b.id === branch.parentId) ?? null;
  const running = isRunning(ctx, project, branch);
  return {
    name: branch.name,
    project: project.name,
    parent: parent?.name ?? null,
    mode: branch.mode,
    masked: branch.masked,
    state: branch.state,
    running,
    crashed: hasCrashed(ctx, project, branch, running),
    port: branch.port,
    createdAt: branch.createdAt,
    forkedAt: branch.forkedAt,
    forkLsn: branch.forkLsn,
    lastError: branch.lastError,
    connectionString: branchUrl(project, branch),
  };
}
