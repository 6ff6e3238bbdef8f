import type pg from "pg";
import { type CallOutcome, callHttp } from "../outbound.ts";
import { nextRunOf } from "./cron.ts";
import type { JobRow } from "./jobs.ts";
import { claimRun, finishRun } from "./runs.ts";

/** Where a job's call goes: a URL as given, or the branch's own functions route. */
export type TargetResolver = (
  job: JobRow,
) => Promise<{ url: string; headers: Record<string, string> }>;

export interface FireContext {
  /** Runs fn on a connection to the branch's database (one statement per call, autocommit). */
  withDb<T>(fn: (c: pg.ClientBase) => Promise<T>): Promise<T>;
  branchId: number;
  branchName: string;
  resolveTarget: TargetResolver;
  timeoutMs: number;
}

/**
 * Fires one job on a branch if it is active there and the tick is not claimed yet: records
 * the run, calls the target (headers say which branch and schedule call), records the
 * outcome. Null when it did not run (paused, unarmed, deleted, or another runner had it).
 */
export async function fireJob(
  f: FireContext,
  o: { job: string; scheduledFor: Date | null },
): Promise<{ runId: number; outcome: CallOutcome } | null> {
  const claimed = await f.withDb((c) =>
    claimRun(c, { job: o.job, branchId: f.branchId, scheduledFor: o.scheduledFor }),
  );
  if (!claimed) return null;
  const { job, runId } = claimed;
  let outcome: CallOutcome;
  try {
    const t = await f.resolveTarget(job);
    outcome = await callHttp({
      url: t.url,
      method: job.method,
      headers: {
        ...job.headers,
        ...t.headers,
        "x-bough-branch": f.branchName,
        "x-bough-schedule": job.name,
      },
      body: job.payload,
      timeoutMs: f.timeoutMs,
    });
  } catch (err) {
    outcome = {
      ok: false,
      httpStatus: null,
      response: null,
      error: (err as Error).message,
      durationMs: 0,
    };
  }
  await f.withDb((c) =>
    finishRun(c, { runId, job: job.name, outcome, nextRunAt: nextRunOf(job.cron, job.timezone) }),
  );
  return { runId, outcome };
}
