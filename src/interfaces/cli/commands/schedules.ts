import { type Command, InvalidArgumentError } from "commander";
import {
  type ScheduleInput,
  type ScheduleView,
  scheduleCreate,
  scheduleDelete,
  scheduleList,
  scheduleRunNow,
  scheduleRuns,
  scheduleSetPaused,
  scheduleUpdate,
} from "../../../branches/schedules.ts";
import { branchOrCurrent, type Session, withSession } from "../session.ts";

const targetOf = (j: ScheduleView) => (j.targetKind === "url" ? j.target : `function ${j.target}`);

function printJob(s: Session, j: ScheduleView, verb: string): void {
  s.out.result(j, () => {
    s.out.line(`${verb} schedule ${j.name} (${j.cron}) → ${targetOf(j)}`);
    s.out.line(
      j.active ? `active; next run ${j.nextRunAt ?? "never"}` : `not active: ${j.pausedReason}`,
    );
  });
}

function parseLimit(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 1000)
    throw new InvalidArgumentError("a number in 1-1000");
  return n;
}

const definitionOptions = (cmd: Command) =>
  cmd
    .option(
      "--cron <expr>",
      'cron expression: 5 fields, or 6 with seconds first (e.g. "*/5 * * * *")',
    )
    .option("--timezone <tz>", "IANA time zone the expression is read in (default UTC)")
    .option("--function <name>", "call this edge function of the branch")
    .option("--url <url>", "call this http(s) URL")
    .option("--payload <json>", "JSON body sent with each call")
    .option("--method <m>", "HTTP method (default POST)")
    .option("--branch <name>", "branch (default: the current one)");

export function registerSchedules(program: Command): void {
  const schedules = program
    .command("schedules")
    .description("cron jobs calling a function or a URL; copied jobs start paused on a new branch");

  definitionOptions(
    schedules.command("create <name>").description("add a job, active on this branch"),
  ).action(
    withSession(async (s, name: string, o: ScheduleInput & { branch?: string }) => {
      const j = await scheduleCreate(s.ctx, {
        ...o,
        project: s.opts.project,
        branch: await branchOrCurrent(s, o.branch),
        name,
      });
      printJob(s, j, "created");
    }),
  );

  definitionOptions(
    schedules
      .command("update <name>")
      .description("change a job's definition (its paused/active state stays)"),
  ).action(
    withSession(async (s, name: string, o: ScheduleInput & { branch?: string }) => {
      const j = await scheduleUpdate(s.ctx, {
        ...o,
        project: s.opts.project,
        branch: await branchOrCurrent(s, o.branch),
        name,
      });
      printJob(s, j, "updated");
    }),
  );

  schedules
    .command("list")
    .description("jobs of a branch, with whether they fire there and why not")
    .option("--branch <name>", "branch (default: the current one)")
    .action(
      withSession(async (s, o: { branch?: string }) => {
        const jobs = await scheduleList(s.ctx, {
          project: s.opts.project,
          branch: await branchOrCurrent(s, o.branch),
        });
        s.out.result(jobs, () => {
          if (jobs.length === 0) s.out.line("no schedules");
          else
            s.out.table(
              ["Name", "Cron", "Target", "State", "Last run", "Failures"],
              jobs.map((j) => [
                j.name,
                j.cron,
                targetOf(j),
                j.active ? `active, next ${j.nextRunAt ?? "never"}` : (j.pausedReason ?? "paused"),
                j.lastRunAt ? `${j.lastRunAt} ${j.lastStatus ?? ""}` : "-",
                j.failureCount,
              ]),
            );
        });
      }),
    );

  for (const [verb, paused] of [
    ["pause", true],
    ["resume", false],
  ] as const) {
    schedules
      .command(`${verb} <name>`)
      .description(
        paused ? "stop a job on this branch" : "make a job fire on this branch (arms it here)",
      )
      .option("--branch <name>", "branch (default: the current one)")
      .action(
        withSession(async (s, name: string, o: { branch?: string }) => {
          const j = await scheduleSetPaused(s.ctx, {
            project: s.opts.project,
            branch: await branchOrCurrent(s, o.branch),
            name,
            paused,
          });
          printJob(s, j, paused ? "paused" : "resumed");
        }),
      );
  }

  schedules
    .command("delete <name>")
    .description("remove a job from a branch")
    .option("--branch <name>", "branch (default: the current one)")
    .action(
      withSession(async (s, name: string, o: { branch?: string }) => {
        const r = await scheduleDelete(s.ctx, {
          project: s.opts.project,
          branch: await branchOrCurrent(s, o.branch),
          name,
        });
        s.out.result(r, () => s.out.line(`deleted schedule ${name}`));
      }),
    );

  schedules
    .command("runs <name>")
    .description("a job's run history on a branch, newest first")
    .option("--branch <name>", "branch (default: the current one)")
    .option("--limit <n>", "how many runs (default 20)", parseLimit, 20)
    .action(
      withSession(async (s, name: string, o: { branch?: string; limit: number }) => {
        const runs = await scheduleRuns(s.ctx, {
          project: s.opts.project,
          branch: await branchOrCurrent(s, o.branch),
          name,
          limit: o.limit,
        });
        s.out.result(runs, () =>
          s.out.table(
            ["Started", "Status", "HTTP", "ms", "Error"],
            runs.map((r) => [
              r.startedAt,
              r.status,
              r.httpStatus ?? "-",
              r.durationMs ?? "-",
              r.error ?? "",
            ]),
          ),
        );
      }),
    );

  schedules
    .command("run <name>")
    .description("fire an active job now (from this process) and wait for its outcome")
    .option("--branch <name>", "branch (default: the current one)")
    .action(
      withSession(async (s, name: string, o: { branch?: string }) => {
        const run = await scheduleRunNow(s.ctx, {
          project: s.opts.project,
          branch: await branchOrCurrent(s, o.branch),
          name,
        });
        s.out.result(run, () =>
          s.out.line(
            `${name}: ${run.status}${run.httpStatus ? ` (HTTP ${run.httpStatus})` : ""}${run.error ? `: ${run.error}` : ""}`,
          ),
        );
      }),
    );
}
