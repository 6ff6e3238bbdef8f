import { performance } from "node:perf_hooks";
import { stopCluster } from "../clusters/cluster.ts";
import { branchById, listBranches, updateBranch } from "../control/branches.ts";
import { listProjects } from "../control/projects.ts";
import { nowIso } from "../control/store.ts";
import { formatDuration } from "../core/duration.ts";
import { toBoughError } from "../core/errors.ts";
import type { Branch, Project } from "../core/types.ts";
import type { Activity } from "./activity.ts";
import { auditCall } from "./audited.ts";
import { branchUrl, isRunning } from "./branch-cluster.ts";
import type { Ctx } from "./context.ts";
import { exclusive } from "./exclusive.ts";
import { suspendAfterMs } from "./info.ts";
import { withClient } from "./sql.ts";
import { PROXY_ACTOR } from "./wake.ts";

// Only settled branches stop for idleness: the others are in the middle of an operation.
const SUSPENDABLE = new Set(["ready", "merged", "conflicted"]);

/**
 * Scale to zero, run by `bough up`: every sweepMs, each running branch of the home with
 * an idle timeout that has had no proxy connection and no API request for that long is
 * stopped (its memory freed), recorded as `suspendedAt` (shown as idle) and audited as
 * `branch.suspend` by the proxy; the next proxy connection or request starts it again.
 * A branch that starts by any other means gets a full timeout from when it was seen running.
 */
export function startIdleSuspender(
  ctx: Ctx,
  activity: Activity,
  o: { sweepMs?: number; onError?: (err: Error) => void } = {},
): { stop(): Promise<void> } {
  const seenRunning = new Set<number>();
  const sweep = async () => {
    for (const project of listProjects(ctx)) {
      for (const branch of listBranches(ctx.db, project.id)) {
        if (!isRunning(ctx, project, branch)) {
          seenRunning.delete(branch.id);
          continue;
        }
        if (!seenRunning.has(branch.id)) {
          seenRunning.add(branch.id);
          activity.touch(branch.id);
        }
        const timeout = suspendAfterMs(branch);
        if (timeout === 0 || !SUSPENDABLE.has(branch.state)) continue;
        if (activity.idleForMs(branch.id) < timeout) continue;
        await suspendIfIdle(ctx, activity, project, branch, timeout).catch((err) =>
          o.onError?.(err as Error),
        );
      }
    }
  };
  let running = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(sweep).catch((err) => o.onError?.(err as Error));
  }, o.sweepMs ?? 1_000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

/** Stops the branch if, under the operation lock, it is still idle and running; audited. */
async function suspendIfIdle(
  ctx: Ctx,
  activity: Activity,
  project: Project,
  seen: Branch,
  timeout: number,
): Promise<void> {
  const started = performance.now();
  const record = (result: string) =>
    auditCall(
      { ...ctx, actor: PROXY_ACTOR },
      {
        action: "branch.suspend",
        o: { project: project.name, name: seen.name, suspendAfter: formatDuration(timeout) },
        result,
        durationMs: performance.now() - started,
      },
    );
  try {
    const stopped = await exclusive(ctx, async () => {
      const branch = branchById(ctx.db, seen.id);
      if (!branch || !SUSPENDABLE.has(branch.state) || !isRunning(ctx, project, branch)) {
        return false;
      }
      if (activity.idleForMs(branch.id) < timeout) return false;
      // A query running or a transaction open on a direct connection is use too, and so is
      // a realtime subscription to changes (its walsender streams).
      if (await busyDirectly(project, branch)) {
        activity.touch(branch.id);
        return false;
      }
      // Checked and announced with no await between: a connection that comes now waits.
      if (activity.idleForMs(branch.id) < timeout) return false;
      const stop = stopCluster(ctx.cluster, { dataDir: ctx.paths.branchData(project, branch) });
      activity.stopping(branch.id, stop);
      await stop;
      updateBranch(ctx.db, branch.id, { wantRunning: false, suspendedAt: nowIso() });
      return true;
    });
    if (stopped) record("ok");
  } catch (err) {
    record(toBoughError(err).code);
    throw err;
  }
}

async function busyDirectly(project: Project, branch: Branch): Promise<boolean> {
  const { rows } = await withClient(branchUrl(project, branch), (c) =>
    c.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE backend_type IN ('client backend', 'walsender') AND pid <> pg_backend_pid()
          AND state IS DISTINCT FROM 'idle'`,
    ),
  );
  return rows[0].n > 0;
}
