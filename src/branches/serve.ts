import { setTimeout as sleep } from "node:timers/promises";
import { branchById, findBranch, lineageOf } from "../control/branches.ts";
import { findProject, projectById } from "../control/projects.ts";
import { BoughError } from "../core/errors.ts";
import { validateName } from "../core/names.ts";
import type { Branch, Project } from "../core/types.ts";
import { poolBranchDb } from "../platform/branch-db.ts";
import type { BranchKeys } from "../platform/keys/keys.ts";
import type { BranchDb } from "../platform/request.ts";
import { ensurePlatformSchema, hasPlatformSchema } from "../platform/schema.ts";
import { branchTokenId } from "../platform/tokens.ts";
import type { Activity } from "./activity.ts";
import { branchUrl, isRunning } from "./branch-cluster.ts";
import type { Ctx } from "./context.ts";
import { exclusive } from "./exclusive.ts";
import { currentBranchKeys, currentJwtSecret, ensureBranchKeys, projectJwtSecret } from "./keys.ts";
import { startBranchOp } from "./start-stop.ts";

/** A branch as the HTTP server serves it: its database pool, keys and token scope. */
export interface ServedBranch {
  project: Project;
  branch: Branch;
  db: BranchDb;
  keys: BranchKeys;
  jwtSecret: Uint8Array;
  /** The branch claim of tokens issued here (branchTokenId). */
  branchToken: string;
  /** Branch token ids whose user tokens this branch accepts: itself, then its ancestors. */
  acceptedTokens: string[];
}

export interface BranchServer {
  /** Resolves a request's branch, starting it if it is stopped; 404s for unknown ones. */
  open(project: string, branch: string): Promise<ServedBranch>;
  /** Closes every pool. */
  close(): Promise<void>;
}

interface Pooled {
  db: ReturnType<typeof poolBranchDb>;
  port: number;
}

const notFound = (project: string, branch: string) =>
  new BoughError(
    "BRANCH_NOT_FOUND",
    `branch "${branch}" does not exist in project "${project}"`,
    "run `bough branch list` to see branches",
  );

/**
 * Serves branches over one control-plane context: one pool per running branch (closed when
 * the branch stops or is deleted, checked on each request and every sweepMs), a stopped
 * branch started on its first request (through the journaled start operation, at most
 * startTimeoutMs), keys read from disk per request so a rotation takes effect at once.
 */
export function openBranchServer(
  ctx: Ctx,
  o: {
    startTimeoutMs?: number;
    sweepMs?: number;
    /** Told of each branch a request started (`bough up` stops those on Ctrl-C). */
    onStarted?: (project: string, branch: string) => void;
    /** Scale to zero's use counter: every request counts (an idle stop under way is awaited). */
    activity?: Activity;
  } = {},
): BranchServer {
  const pools = new Map<number, Pooled>();
  const starting = new Map<number, Promise<unknown>>();

  const drop = async (id: number) => {
    const p = pools.get(id);
    pools.delete(id);
    await p?.db.end().catch(() => {});
  };

  const sweep = async () => {
    for (const [id, p] of pools) {
      if (!servesOn(ctx, id, p.port)) await drop(id);
    }
  };
  const timer = setInterval(() => void sweep(), o.sweepMs ?? 10_000);
  timer.unref();

  const ensureStarted = async (project: Project, branch: Branch): Promise<Branch> => {
    if (isRunning(ctx, project, branch)) return branch;
    await drop(branch.id);
    let pending = starting.get(branch.id);
    if (!pending) {
      pending = startBranchOp(ctx, { project: project.name, name: branch.name })
        .then(() => o.onStarted?.(project.name, branch.name))
        .finally(() => starting.delete(branch.id));
      starting.set(branch.id, pending);
    }
    const timeoutMs = o.startTimeoutMs ?? 30_000;
    // Unref'd: a won race must not keep the process (a stopping `bough up`) alive.
    const won = await Promise.race([
      pending.then(() => true),
      sleep(timeoutMs, false, { ref: false }),
    ]);
    if (!won) {
      throw new BoughError(
        "BUSY",
        `branch "${branch.name}" is still starting`,
        "retry in a moment",
      );
    }
    return findBranch(ctx.db, project.id, branch.name) ?? branch;
  };

  const poolOf = async (project: Project, branch: Branch): Promise<BranchDb> => {
    const existing = pools.get(branch.id);
    if (existing && existing.port === branch.port) return existing.db;
    if (existing) await drop(branch.id);
    const db = poolBranchDb(branchUrl(project, branch));
    pools.set(branch.id, { db, port: branch.port });
    // Branches created before a platform service existed get its schema on first use.
    const ready = await db.asService(hasPlatformSchema);
    if (!ready) await db.asService(ensurePlatformSchema);
    return db;
  };

  return {
    async open(projectName, branchName) {
      validateName("project", projectName);
      validateName("branch", branchName);
      const project = findProject(ctx, projectName);
      if (!project) {
        throw new BoughError(
          "PROJECT_NOT_FOUND",
          `project "${projectName}" does not exist`,
          "run `bough project list` to see projects",
        );
      }
      let branch = findBranch(ctx.db, project.id, branchName);
      if (!branch || branch.state === "deleting") {
        if (branch) await drop(branch.id);
        throw notFound(projectName, branchName);
      }
      if (branch.state === "creating") {
        throw new BoughError(
          "BUSY",
          `branch "${branchName}" is being created`,
          "retry in a moment",
        );
      }
      o.activity?.touch(branch.id);
      await o.activity?.settled(branch.id);
      branch = await ensureStarted(project, branch);
      const db = await poolOf(project, branch);
      const keys =
        (await currentBranchKeys(ctx, project, branch)) ??
        // Branches that predate keys get theirs on first use, under the operation lock.
        (await exclusive(ctx, () => ensureBranchKeys(ctx, project, branch)));
      return {
        project,
        branch,
        db,
        keys,
        jwtSecret:
          (await currentJwtSecret(ctx, project)) ??
          (await exclusive(ctx, () => projectJwtSecret(ctx, project))),
        branchToken: branchTokenId(branch),
        acceptedTokens: lineageOf(ctx.db, branch).map(branchTokenId),
      };
    },
    async close() {
      clearInterval(timer);
      for (const id of [...pools.keys()]) await drop(id);
    },
  };
}

/** Whether branch `id` still runs on `port`: not deleted nor moved, its postmaster alive. */
export function servesOn(ctx: Ctx, id: number, port: number): boolean {
  const branch = branchById(ctx.db, id);
  const project = branch && projectById(ctx, branch.projectId);
  return (
    !!branch &&
    !!project &&
    branch.state !== "deleting" &&
    branch.port === port &&
    isRunning(ctx, project, branch)
  );
}
