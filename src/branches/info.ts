import { connectionString } from "../clusters/cluster.ts";
import { listBranches } from "../control/branches.ts";
import { runningProxy } from "../control/server.ts";
import { formatDuration } from "../core/duration.ts";
import { proxyUser } from "../core/names.ts";
import type { Branch, BranchMode, BranchState, Project } from "../core/types.ts";
import { branchUrl, hasCrashed, isRunning } from "./branch-cluster.ts";
import { branchPassword } from "./branch-password.ts";
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
  /** Through `bough up`'s Postgres proxy while it runs (`postgres.BRANCH@127.0.0.1:PROXYPORT`), else direct. */
  connectionString: string;
  /** Stopped by scale to zero (no connection for suspendAfter); the next proxy connection starts it. */
  idle: boolean;
  /** Its idle timeout: `5m`, `never`, ... */
  suspendAfter: string;
  /** Reset, restore and delete are refused (`bough branch unprotect`); main starts protected. */
  protected: boolean;
  /** When it is deleted (ISO 8601), null: never. */
  expiresAt: string | null;
}

/** Idle timeout of branches that set none; main never stops for idleness unless told to. */
export const DEFAULT_SUSPEND_AFTER_MS = 5 * 60_000;

/** A branch's idle timeout in ms (0: never). */
export function suspendAfterMs(branch: Branch): number {
  return branch.suspendAfterMs ?? (branch.parentId === null ? 0 : DEFAULT_SUSPEND_AFTER_MS);
}

/**
 * The connection string people are given: through the proxy while `bough up` runs (one
 * port for every branch, and a stopped branch starts on connect), else the cluster's own.
 */
export function publicUrl(ctx: Ctx, project: Project, branch: Branch): string {
  const proxy = runningProxy(ctx.db);
  if (!proxy) return branchUrl(project, branch);
  const user = proxyUser({
    role: "postgres",
    branch: branch.name,
    project: project.name === proxy.project ? null : project.name,
  });
  return connectionString({ port: proxy.port, password: branchPassword(project, branch), user });
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
    connectionString: publicUrl(ctx, project, branch),
    idle: !running && branch.suspendedAt !== null,
    suspendAfter: formatDuration(suspendAfterMs(branch)),
    protected: branch.protected,
    expiresAt: branch.expiresAt,
  };
}
