import type pg from "pg";
import type { CallOutcome } from "../outbound.ts";
import type { JobRow } from "./jobs.ts";
import { findJob } from "./jobs.ts";

/** One row of a job's history, as `bough schedules runs NAME --json` prints it. */
export interface RunRow {
  id: number;
  job: string;
  scheduledFor: string | null;
  startedAt: string;
  durationMs: number | null;
  status: "running" | "succeeded" | "failed";
  httpStatus: number | null;
  response: string | null;
  error: string | null;
}

const iso = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

export async function listRuns(c: pg.ClientBase, job: string, limit: number): Promise<RunRow[]> {
  const r = await c.query<RunRow>(
    `SELECT id::int, job, ${iso("scheduled_for")} AS "scheduledFor", ${iso("started_at")} AS "startedAt",
       duration_ms AS "durationMs", status, http_status AS "httpStatus", response, error
     FROM schedules.runs WHERE job = $1 ORDER BY started_at DESC, id DESC LIMIT $2`,
    [job, limit],
  );
  return r.rows;
}

/**
 * Claims one run of a job that is active on this branch (checked now, in the database, so
 * a stale runner never fires a job paused, reset or re-armed since). A tick is claimed
 * once: two runners watching the same branch both try, one wins. Null when not to run.
 */
export async function claimRun(
  c: pg.ClientBase,
  o: { job: string; branchId: number; scheduledFor: Date | null },
): Promise<{ runId: number; job: JobRow } | null> {
  const r = await c.query<{ id: number }>(
    `INSERT INTO schedules.runs (job, scheduled_for)
     SELECT name, $3 FROM schedules.jobs WHERE name = $1 AND NOT paused AND armed_branch = $2
     ON CONFLICT (job, scheduled_for) DO NOTHING RETURNING id::int`,
    [o.job, o.branchId, o.scheduledFor],
  );
  if (r.rows.length === 0) return null;
  const job = await findJob(c, o.job);
  return job ? { runId: r.rows[0].id, job } : null;
}

/** Records how a run ended, and the job's runtime state (failures count consecutive ones). */
export async function finishRun(
  c: pg.ClientBase,
  o: { runId: number; job: string; outcome: CallOutcome; nextRunAt: Date | null },
): Promise<void> {
  const status = o.outcome.ok ? "succeeded" : "failed";
  await c.query(
    `UPDATE schedules.runs SET duration_ms = $2, status = $3, http_status = $4, response = $5, error = $6
     WHERE id = $1`,
    [
      o.runId,
      o.outcome.durationMs,
      status,
      o.outcome.httpStatus,
      o.outcome.response,
      o.outcome.error,
    ],
  );
  await c.query(
    `UPDATE schedules.jobs SET last_run_at = (SELECT started_at FROM schedules.runs WHERE id = $2),
       next_run_at = $3, last_status = $4,
       failure_count = CASE WHEN $4 = 'succeeded' THEN 0 ELSE failure_count + 1 END
     WHERE name = $1`,
    [o.job, o.runId, o.nextRunAt, status],
  );
}
