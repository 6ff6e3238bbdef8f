import pg from "pg";
import { listBranches } from "../control/branches.ts";
import { listProjects } from "../control/projects.ts";
import { BoughError } from "../core/errors.ts";
import type { Branch, Project } from "../core/types.ts";
import type { FireContext, TargetResolver } from "../platform/schedules/fire.ts";
import { startBranchScheduler } from "../platform/schedules/scheduler.ts";
import { branchUrl, isRunning } from "./branch-cluster.ts";
import type { Ctx } from "./context.ts";
import { branchPathPrefix, currentBranchKeys } from "./keys.ts";
import { periodic } from "./periodic.ts";

export interface RunnerOptions {
  /** Base URL of this process's HTTP server (function targets), null while not listening. */
  apiBase: () => string | null;
  /** How often running branches are looked for (ms). */
  sweepMs?: number;
  /** How often each branch's job definitions are re-read (ms). */
  reloadMs?: number;
  /** Timeout of one call to a target (ms). */
  timeoutMs?: number;
  onError?: (err: Error) => void;
}

export const TARGET_TIMEOUT_MS = 10_000;

/** How a job on this branch reaches its target: a URL as given, a function through the branch's own route with its secret key. */
export function targetResolver(
  ctx: Ctx,
  o: { project: Project; branch: Branch; apiBase: () => string | null },
): TargetResolver {
  return async (job): ReturnType<TargetResolver> => {
    if (job.targetKind === "url") return { url: job.target, headers: {} };
    const base = o.apiBase();
    const keys = await currentBranchKeys(ctx, o.project, o.branch);
    if (!base || !keys) {
      throw new BoughError(
        "ENVIRONMENT",
        `function "${job.target}" is called through \`bough up\`'s HTTP server, which is not ${base ? "holding keys for this branch" : "running"}`,
        "start `bough up`",
      );
    }
    const path = `${branchPathPrefix(o.project.name, o.branch.name)}/functions/v1/${encodeURIComponent(job.target)}`;
    return {
      url: `${base}${path}`,
      headers: { authorization: `Bearer ${keys.secretKey}`, apikey: keys.secretKey },
    };
  };
}

/** A FireContext over a pool of one branch's database. */
export function fireContextOf(
  ctx: Ctx,
  o: {
    project: Project;
    branch: Branch;
    pool: pg.Pool;
    apiBase: () => string | null;
    timeoutMs?: number;
  },
): FireContext {
  return {
    withDb: async (fn) => {
      const c = await o.pool.connect();
      // The branch stopping (reset, Ctrl-C) under a checked-out connection is reported by the query, not thrown at the process.
      let broken: Error | undefined;
      const onError = (err: Error) => {
        broken = err;
      };
      c.on("error", onError);
      try {
        return await fn(c);
      } catch (err) {
        broken = err as Error;
        throw err;
      } finally {
        c.off("error", onError);
        c.release(broken);
      }
    },
    branchId: o.branch.id,
    branchName: o.branch.name,
    resolveTarget: targetResolver(ctx, o),
    timeoutMs: o.timeoutMs ?? TARGET_TIMEOUT_MS,
  };
}

interface Watched {
  port: number;
  /** A renamed branch is watched again: function targets are called by its name. */
  name: string;
  pool: pg.Pool;
  stop(): void;
}

// Branches mid-operation are left alone: their cluster is being cloned, replaced or removed.
const BUSY = new Set(["creating", "resetting", "restoring", "deleting"]);

/**
 * The schedule runner of `bough up`: every sweepMs it looks for the RUNNING branches of
 * every project in the home and runs their active jobs with croner. It never starts a
 * stopped branch (a stopped branch's jobs wait until something starts it). Two runners on
 * one home do not double-fire: each tick is claimed once in the branch's database.
 */
export function startScheduleRunner(ctx: Ctx, o: RunnerOptions): { stop(): Promise<void> } {
  const watched = new Map<number, Watched>();
  const report = (err: unknown) => o.onError?.(err as Error);

  const unwatch = async (id: number) => {
    const w = watched.get(id);
    watched.delete(id);
    if (!w) return;
    w.stop();
    await w.pool.end().catch(() => {});
  };

  const sweep = async () => {
    const live = new Set<number>();
    for (const project of listProjects(ctx)) {
      for (const branch of listBranches(ctx.db, project.id)) {
        if (BUSY.has(branch.state) || !isRunning(ctx, project, branch)) continue;
        live.add(branch.id);
        const w = watched.get(branch.id);
        if (w && w.port === branch.port && w.name === branch.name) continue;
        if (w) await unwatch(branch.id);
        const pool = new pg.Pool({ connectionString: branchUrl(project, branch), max: 3 });
        // The branch stopping under an idle connection must not crash the server.
        pool.on("error", () => {});
        const f = fireContextOf(ctx, {
          project,
          branch,
          pool,
          apiBase: o.apiBase,
          timeoutMs: o.timeoutMs,
        });
        const scheduler = startBranchScheduler(f, {
          reloadMs: o.reloadMs ?? 2_000,
          onError: report,
        });
        watched.set(branch.id, {
          port: branch.port,
          name: branch.name,
          pool,
          stop: () => scheduler.stop(),
        });
      }
    }
    for (const id of [...watched.keys()]) if (!live.has(id)) await unwatch(id);
  };

  const timer = periodic(sweep, o.sweepMs ?? 2_000, report);
  return {
    async stop() {
      await timer.stop();
      for (const id of [...watched.keys()]) await unwatch(id);
    },
  };
}
