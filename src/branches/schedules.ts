import type pg from "pg";
import { branchById } from "../control/branches.ts";
import { BoughError } from "../core/errors.ts";
import { validateName } from "../core/names.ts";
import type { Branch, Project } from "../core/types.ts";
import { checkHttpUrl } from "../platform/outbound.ts";
import { checkCron, nextRunOf } from "../platform/schedules/cron.ts";
import { fireJob } from "../platform/schedules/fire.ts";
import {
  deleteJob,
  findJob,
  insertJob,
  isActive,
  type JobDefinition,
  type JobRow,
  jobNotFound,
  listJobs,
  pauseJob,
  resumeJob,
  updateJob,
} from "../platform/schedules/jobs.ts";
import { listRuns, type RunRow } from "../platform/schedules/runs.ts";
import { ensurePlatformSchema, hasPlatformSchema } from "../platform/schema.ts";
import { audited } from "./audited.ts";
import { branchUrl, startBranch } from "./branch-cluster.ts";
import type { Ctx } from "./context.ts";
import { exclusive } from "./exclusive.ts";
import { apiPort } from "./keys.ts";
import { requireBranch, requireProject } from "./lookup.ts";
import { TARGET_TIMEOUT_MS, targetResolver } from "./schedules-runner.ts";
import { withClient } from "./sql.ts";

/** A job as `bough schedules list --json` prints it (a binding contract for scripts). */
export interface ScheduleView {
  name: string;
  cron: string;
  timezone: string;
  targetKind: "function" | "url";
  target: string;
  method: string;
  payload: unknown;
  /** Whether it fires on this branch: not paused and resumed (or created) here. */
  active: boolean;
  /** True whenever it does not fire here, with pausedReason saying why. */
  paused: boolean;
  pausedReason: string | null;
  lastRunAt: string | null;
  nextRunAt: string | null;
  failureCount: number;
  lastStatus: string | null;
}

interface Where {
  project: string;
  branch: string;
}

/** Runs fn on the branch's database (started if stopped, platform schema brought up to date), under the operation lock. */
function onBranch<T>(
  ctx: Ctx,
  o: Where,
  fn: (c: pg.ClientBase, at: { project: Project; branch: Branch }) => Promise<T>,
): Promise<T> {
  return exclusive(ctx, async () => {
    const project = requireProject(ctx, o.project);
    const branch = await startBranch(ctx, project, requireBranch(ctx, project, o.branch));
    return withClient(branchUrl(project, branch), async (c) => {
      if (!(await hasPlatformSchema(c))) await ensurePlatformSchema(c);
      return fn(c, { project, branch });
    });
  });
}

/** The view of a job from one branch: why it does not fire here, in words, with the command that changes that. */
export function viewJob(ctx: Ctx, j: JobRow, branch: Branch): ScheduleView {
  const active = isActive(j, branch.id);
  const resume = `resume with \`bough schedules resume ${j.name} --branch ${branch.name}\``;
  let pausedReason: string | null = null;
  if (j.paused) pausedReason = `${j.pausedReason ?? "paused"}: ${resume}`;
  else if (j.armedBranch === null)
    pausedReason = `arrived by merge, not active on ${branch.name} until resumed there: ${resume}`;
  else if (!active) {
    const from = branchById(ctx.db, j.armedBranch)?.name ?? "the parent";
    pausedReason = `paused on branch (copied from ${from}): ${resume}`;
  }
  return {
    name: j.name,
    cron: j.cron,
    timezone: j.timezone,
    targetKind: j.targetKind,
    target: j.target,
    method: j.method,
    payload: j.payload,
    active,
    paused: !active,
    pausedReason,
    lastRunAt: j.lastRunAt,
    nextRunAt: active ? (nextRunOf(j.cron, j.timezone)?.toISOString() ?? null) : null,
    failureCount: j.failureCount,
    lastStatus: j.lastStatus,
  };
}

async function requireJob(c: pg.ClientBase, name: string, branch: Branch): Promise<JobRow> {
  const j = await findJob(c, name);
  if (!j) throw jobNotFound(name, branch.name);
  return j;
}

export interface ScheduleInput {
  cron?: string;
  timezone?: string;
  function?: string;
  url?: string;
  /** JSON text. */
  payload?: string;
  method?: string;
}

/** The definition `input` describes on top of `base` (all of it checked: cron, URL, payload, method). */
function definitionOf(name: string, input: ScheduleInput, base?: JobDefinition): JobDefinition {
  if (input.function !== undefined && input.url !== undefined) {
    throw new BoughError(
      "INVALID_INPUT",
      "pass --function or --url, not both",
      "a job calls one target",
    );
  }
  const cron = input.cron ?? base?.cron;
  if (cron === undefined)
    throw new BoughError("INVALID_INPUT", "--cron is required", 'e.g. --cron "*/5 * * * *"');
  const timezone = input.timezone ?? base?.timezone ?? "UTC";
  checkCron(cron, timezone);
  let targetKind = base?.targetKind;
  let target = base?.target;
  if (input.url !== undefined) {
    const url = checkHttpUrl(input.url);
    if (!url) {
      throw new BoughError(
        "INVALID_INPUT",
        `invalid URL ${JSON.stringify(input.url)}: only absolute http:// and https:// URLs are called`,
        "e.g. --url https://example.com/hook",
      );
    }
    targetKind = "url";
    target = url;
  } else if (input.function !== undefined) {
    if (!/^[A-Za-z0-9_-]{1,128}$/.test(input.function)) {
      throw new BoughError(
        "INVALID_INPUT",
        `invalid function name ${JSON.stringify(input.function)}`,
        "function names are letters, digits, hyphens and underscores",
      );
    }
    targetKind = "function";
    target = input.function;
  }
  if (!targetKind || !target) {
    throw new BoughError(
      "INVALID_INPUT",
      "a job needs --function NAME or --url URL",
      "say what it calls",
    );
  }
  let payload = base?.payload ?? null;
  if (input.payload !== undefined) {
    try {
      payload = JSON.parse(input.payload);
    } catch (err) {
      throw new BoughError(
        "INVALID_INPUT",
        `--payload is not JSON: ${(err as Error).message}`,
        `e.g. --payload '{"report":"daily"}'`,
      );
    }
  }
  const method = (input.method ?? base?.method ?? "POST").toUpperCase();
  if (!["GET", "POST", "PUT", "PATCH", "DELETE"].includes(method)) {
    throw new BoughError(
      "INVALID_INPUT",
      `unsupported method ${method}`,
      "use GET, POST, PUT, PATCH or DELETE",
    );
  }
  return {
    name,
    cron,
    timezone,
    targetKind,
    target,
    method,
    headers: base?.headers ?? {},
    payload,
  };
}

/** `bough schedules create NAME`: the job is active on the branch it is created on. */
async function scheduleCreateNow(
  ctx: Ctx,
  o: Where & ScheduleInput & { name: string },
): Promise<ScheduleView> {
  validateName("schedule", o.name);
  const d = definitionOf(o.name, o);
  return onBranch(ctx, o, async (c, { branch }) => {
    await insertJob(c, d, { armedBranch: branch.id, branch: branch.name });
    return viewJob(ctx, await requireJob(c, o.name, branch), branch);
  });
}

/** `bough schedules update NAME`: changes the definition (what a merge carries); paused/active state stays. */
function scheduleUpdateNow(
  ctx: Ctx,
  o: Where & ScheduleInput & { name: string },
): Promise<ScheduleView> {
  return onBranch(ctx, o, async (c, { branch }) => {
    const d = definitionOf(o.name, o, await requireJob(c, o.name, branch));
    await updateJob(c, d);
    return viewJob(ctx, await requireJob(c, o.name, branch), branch);
  });
}

export function scheduleList(ctx: Ctx, o: Where): Promise<ScheduleView[]> {
  return onBranch(ctx, o, async (c, { branch }) =>
    (await listJobs(c)).map((j) => viewJob(ctx, j, branch)),
  );
}

/** `pause` (stops it here) or `resume` (arms it on this branch: the only way a copied job fires here). */
function setPausedNow(
  ctx: Ctx,
  o: Where & { name: string; paused: boolean },
): Promise<ScheduleView> {
  return onBranch(ctx, o, async (c, { branch }) => {
    await requireJob(c, o.name, branch);
    if (o.paused)
      await pauseJob(c, o.name, `paused by \`bough schedules pause\` on ${branch.name}`);
    else await resumeJob(c, o.name, branch.id);
    return viewJob(ctx, await requireJob(c, o.name, branch), branch);
  });
}

function scheduleDeleteNow(
  ctx: Ctx,
  o: Where & { name: string },
): Promise<{ name: string; deleted: true }> {
  return onBranch(ctx, o, async (c, { branch }) => {
    await requireJob(c, o.name, branch);
    await deleteJob(c, o.name);
    return { name: o.name, deleted: true };
  });
}

export function scheduleRuns(
  ctx: Ctx,
  o: Where & { name: string; limit: number },
): Promise<RunRow[]> {
  return onBranch(ctx, o, async (c, { branch }) => {
    await requireJob(c, o.name, branch);
    return listRuns(c, o.name, o.limit);
  });
}

/**
 * `bough schedules run NAME`: fires the job now, from this process, if it is active on the
 * branch (a paused or copied job is refused: running it is what resume is for). Function
 * targets go through `bough up`'s server on the last port it used.
 */
function runNow(ctx: Ctx, o: Where & { name: string }): Promise<RunRow> {
  return onBranch(ctx, o, async (c, { project, branch }) => {
    const view = viewJob(ctx, await requireJob(c, o.name, branch), branch);
    if (!view.active) {
      throw new BoughError(
        "BRANCH_BAD_STATE",
        `schedule "${o.name}" does not run on ${branch.name}`,
        view.pausedReason ?? "",
      );
    }
    const fired = await fireJob(
      {
        withDb: (fn) => fn(c),
        branchId: branch.id,
        branchName: branch.name,
        resolveTarget: targetResolver(ctx, {
          project,
          branch,
          apiBase: () => `http://127.0.0.1:${apiPort(ctx)}`,
        }),
        timeoutMs: TARGET_TIMEOUT_MS,
      },
      { job: o.name, scheduledFor: null },
    );
    if (!fired) throw jobNotFound(o.name, branch.name);
    const [run] = (await listRuns(c, o.name, 50)).filter((r) => r.id === fired.runId);
    return run;
  });
}

// The job's name and schedule are recorded; the URL and payload are not (webhook URLs and
// bodies often carry tokens).
const definitionArgs = (o: ScheduleInput & { name: string }) => ({
  schedule: o.name,
  cron: o.cron,
  timezone: o.timezone,
  function: o.function,
  url: o.url === undefined ? undefined : "[not recorded]",
  method: o.method,
});
const nameArgs = (o: { name: string }) => ({ schedule: o.name });

export const scheduleCreate = audited("schedule.create", scheduleCreateNow, {
  args: definitionArgs,
});
export const scheduleUpdate = audited("schedule.update", scheduleUpdateNow, {
  args: definitionArgs,
});
const schedulePause = audited("schedule.pause", setPausedNow, { args: nameArgs });
const scheduleResume = audited("schedule.resume", setPausedNow, { args: nameArgs });
export const scheduleSetPaused = (
  ctx: Ctx,
  o: Where & { name: string; paused: boolean },
): Promise<ScheduleView> => (o.paused ? schedulePause : scheduleResume)(ctx, o);
export const scheduleDelete = audited("schedule.delete", scheduleDeleteNow, { args: nameArgs });
export const scheduleRunNow = audited("schedule.run", runNow, { args: nameArgs });
