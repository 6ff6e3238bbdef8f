import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import {
  type ScheduleInput,
  scheduleCreate,
  scheduleDelete,
  scheduleList,
  scheduleRunNow,
  scheduleRuns,
  scheduleSetPaused,
  scheduleUpdate,
} from "../../../branches/schedules.ts";
import type { ManagementDeps } from "./context.ts";
import * as P from "./platform-schemas.ts";
import * as S from "./schemas.ts";

const tags = ["schedules"];

/** The operations take the payload as JSON text (the CLI's --payload). */
const input = (b: P.UpdateScheduleBodyT): ScheduleInput => ({
  cron: b.cron,
  timezone: b.timezone,
  function: b.function,
  url: b.url,
  payload: b.payload === undefined ? undefined : JSON.stringify(b.payload),
  method: b.method,
});

/** `bough schedules list|create|update|pause|resume|delete|runs|run`. */
export function scheduleRoutes({ ctxOf }: ManagementDeps): FastifyPluginAsyncTypebox {
  const one = "/projects/:project/branches/:branch/schedules/:name";
  return async (app) => {
    app.get(
      "/projects/:project/branches/:branch/schedules",
      {
        schema: {
          tags,
          summary: "A branch's cron jobs, with whether each fires there and why not",
          params: S.BranchParams,
          response: { 200: P.Schedules, ...S.ERRORS },
        },
      },
      async (req) => scheduleList(ctxOf(req), req.params),
    );

    app.post(
      "/projects/:project/branches/:branch/schedules",
      {
        schema: {
          tags,
          summary: "Add a job calling a function or URL; it is active on this branch only",
          params: S.BranchParams,
          body: P.CreateScheduleBody,
          response: { 201: P.Schedule, ...S.ERRORS },
        },
      },
      async (req, reply) => {
        const j = await scheduleCreate(ctxOf(req), {
          ...req.params,
          ...input(req.body),
          name: req.body.name,
        });
        return reply.code(201).send(j);
      },
    );

    app.patch(
      one,
      {
        schema: {
          tags,
          summary: "Change a job's definition (its paused or active state stays)",
          params: P.ScheduleParams,
          body: P.UpdateScheduleBody,
          response: { 200: P.Schedule, ...S.ERRORS },
        },
      },
      async (req) => scheduleUpdate(ctxOf(req), { ...req.params, ...input(req.body) }),
    );

    for (const [verb, paused, summary] of [
      ["pause", true, "Stop a job on this branch"],
      ["resume", false, "Make a job fire on this branch (a copied or merged-in job starts paused)"],
    ] as const) {
      app.post(
        `${one}/${verb}`,
        {
          schema: {
            tags,
            summary,
            params: P.ScheduleParams,
            response: { 200: P.Schedule, ...S.ERRORS },
          },
        },
        async (req) => scheduleSetPaused(ctxOf(req), { ...req.params, paused }),
      );
    }

    app.delete(
      one,
      {
        schema: {
          tags,
          summary: "Remove a job from a branch",
          params: P.ScheduleParams,
          response: { 200: P.DeletedSchedule, ...S.ERRORS },
        },
      },
      async (req) => scheduleDelete(ctxOf(req), req.params),
    );

    app.get(
      `${one}/runs`,
      {
        schema: {
          tags,
          summary: "A job's run history on a branch, newest first",
          params: P.ScheduleParams,
          querystring: P.LimitQuery,
          response: { 200: P.ScheduleRuns, ...S.ERRORS },
        },
      },
      async (req) => scheduleRuns(ctxOf(req), { ...req.params, limit: req.query.limit ?? 20 }),
    );

    app.post(
      `${one}/run`,
      {
        schema: {
          tags,
          summary: "Fire an active job now and answer with its run",
          description: "A job that does not fire on this branch is refused (409 BRANCH_BAD_STATE).",
          params: P.ScheduleParams,
          response: { 200: P.ScheduleRun, ...S.ERRORS },
        },
      },
      async (req) => scheduleRunNow(ctxOf(req), req.params),
    );
  };
}
