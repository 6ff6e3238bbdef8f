import type pg from "pg";
import { BoughError } from "../../core/errors.ts";

export type TargetKind = "function" | "url";

/** What a job does and when: the merged part of a job. */
export interface JobDefinition {
  name: string;
  cron: string;
  timezone: string;
  targetKind: TargetKind;
  target: string;
  method: string;
  headers: Record<string, string>;
  payload: unknown;
}

/** A job row: its definition plus this branch's own state (never merged). */
export interface JobRow extends JobDefinition {
  paused: boolean;
  pausedReason: string | null;
  armedBranch: number | null;
  lastRunAt: string | null;
  nextRunAt: string | null;
  failureCount: number;
  lastStatus: string | null;
}

const COLUMNS = `name, cron, timezone, target_kind AS "targetKind", target, method, headers, payload,
  paused, paused_reason AS "pausedReason", armed_branch::int AS "armedBranch",
  to_char(last_run_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "lastRunAt",
  to_char(next_run_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "nextRunAt",
  failure_count AS "failureCount", last_status AS "lastStatus"`;

export const jobNotFound = (name: string, branch: string) =>
  new BoughError(
    "SCHEDULE_NOT_FOUND",
    `no schedule "${name}" on branch "${branch}"`,
    `run \`bough schedules list --branch ${branch}\` to see its schedules`,
  );

export async function listJobs(c: pg.ClientBase): Promise<JobRow[]> {
  const r = await c.query<JobRow>(`SELECT ${COLUMNS} FROM schedules.jobs ORDER BY name`);
  return r.rows;
}

export async function findJob(c: pg.ClientBase, name: string): Promise<JobRow | null> {
  const r = await c.query<JobRow>(`SELECT ${COLUMNS} FROM schedules.jobs WHERE name = $1`, [name]);
  return r.rows[0] ?? null;
}

/** Adds a job, active on the branch it is created on (`armedBranch`). */
export async function insertJob(
  c: pg.ClientBase,
  d: JobDefinition,
  o: { armedBranch: number; branch: string },
): Promise<void> {
  const r = await c.query(
    `INSERT INTO schedules.jobs (name, cron, timezone, target_kind, target, method, headers, payload, armed_branch)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (name) DO NOTHING`,
    [...definitionParams(d), o.armedBranch],
  );
  if (r.rowCount === 0) {
    throw new BoughError(
      "SCHEDULE_EXISTS",
      `schedule "${d.name}" already exists on branch "${o.branch}"`,
      "change it with `bough schedules update NAME ...`, or delete it first",
    );
  }
}

/** A definition's columns in the order of the INSERT and UPDATE below ($1..$8). */
const definitionParams = (d: JobDefinition) => [
  d.name,
  d.cron,
  d.timezone,
  d.targetKind,
  d.target,
  d.method,
  JSON.stringify(d.headers),
  d.payload === undefined ? null : JSON.stringify(d.payload),
];

/** Replaces a job's definition (what a merge carries); its paused/armed state stays. */
export async function updateJob(c: pg.ClientBase, d: JobDefinition): Promise<void> {
  await c.query(
    `UPDATE schedules.jobs SET cron = $2, timezone = $3, target_kind = $4, target = $5, method = $6,
       headers = $7, payload = $8 WHERE name = $1`,
    definitionParams(d),
  );
}

/** `pause`: stops the job here, whoever armed it. */
export async function pauseJob(c: pg.ClientBase, name: string, reason: string): Promise<void> {
  await c.query("UPDATE schedules.jobs SET paused = true, paused_reason = $2 WHERE name = $1", [
    name,
    reason,
  ]);
}

/** `resume`: arms the job on this branch (the only way a copied or merged job runs here). */
export async function resumeJob(c: pg.ClientBase, name: string, branchId: number): Promise<void> {
  await c.query(
    `UPDATE schedules.jobs SET paused = false, paused_reason = NULL, armed_branch = $2, failure_count = 0
     WHERE name = $1`,
    [name, branchId],
  );
}

export async function deleteJob(c: pg.ClientBase, name: string): Promise<void> {
  await c.query("DELETE FROM schedules.jobs WHERE name = $1", [name]);
}

/** Whether a job fires on the branch with this id: not paused and armed here. */
export const isActive = (j: JobRow, branchId: number) => !j.paused && j.armedBranch === branchId;
