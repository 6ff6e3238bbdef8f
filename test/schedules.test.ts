import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { FastifyInstance } from "fastify";
import { setApiPort } from "../src/branches/keys.ts";
import { mergeBranch } from "../src/branches/merge.ts";
import { resetBranch } from "../src/branches/reset.ts";
import {
  type ScheduleView,
  scheduleCreate,
  scheduleList,
  scheduleRunNow,
  scheduleSetPaused,
  scheduleUpdate,
} from "../src/branches/schedules.ts";
import { buildApp } from "../src/interfaces/api/app.ts";
import type { RunRow } from "../src/platform/schedules/runs.ts";
import { bough, boughJson } from "./helpers/cli.ts";
import { type TestHome, testHome } from "./helpers/project.ts";
import { receiver, waitFor } from "./helpers/receiver.ts";
import { rows } from "./helpers/sql.ts";

const P = "sched";

describe("schedules", () => {
  let t: TestHome;
  let app: FastifyInstance;
  let rx: Awaited<ReturnType<typeof receiver>>;
  const cli = (args: string[]) => bough(t.home, ["--project", P, ...args]);
  const json = <T>(args: string[]) => boughJson<T>(t.home, ["--project", P, ...args]);
  // In-process calls (the CLI costs seconds a call here); the CLI's contract is tested once below.
  const where = (branch: string) => ({ project: P, branch });
  const list = (branch: string) => scheduleList(t.ctx, where(branch));
  const setPaused = (branch: string, name: string, paused: boolean) =>
    scheduleSetPaused(t.ctx, { ...where(branch), name, paused });
  const job = async (branch: string, name: string) => {
    const j = (await list(branch)).find((x) => x.name === name);
    assert.ok(j, `${name} on ${branch}`);
    return j;
  };
  const callsFrom = (branch: string, schedule = "tick") =>
    rx.calls.filter(
      (c) => c.headers["x-bough-branch"] === branch && c.headers["x-bough-schedule"] === schedule,
    );

  before(async () => {
    rx = await receiver();
    t = await testHome();
    await t.project(P);
    // The runner `bough up` starts, in-process, looking for branches and jobs often.
    app = buildApp(t.ctx, { schedules: { sweepMs: 250, reloadMs: 250 } });
    await app.listen({ port: 0, host: "127.0.0.1" });
  });
  after(async () => {
    await app?.close();
    await t?.dispose();
    await rx?.close();
  });

  test("a job created on main fires every second against its URL and records its runs", async () => {
    const created = await json<ScheduleView>([
      "schedules",
      "create",
      "tick",
      "--cron",
      "* * * * * *",
      "--url",
      rx.url("/tick"),
      "--payload",
      '{"report":"daily"}',
      "--branch",
      "main",
    ]);
    assert.equal(created.active, true);
    assert.equal(created.paused, false);
    assert.equal(created.pausedReason, null);
    await waitFor("two calls from main", () => callsFrom("main").length >= 2);
    const call = callsFrom("main")[0];
    assert.equal(call.method, "POST");
    assert.deepEqual(call.body, { report: "daily" });
    const runs = await json<RunRow[]>([
      "schedules",
      "runs",
      "tick",
      "--branch",
      "main",
      "--limit",
      "5",
    ]);
    assert.ok(runs.length >= 2);
    assert.equal(runs[0].status, "succeeded");
    assert.equal(runs[0].httpStatus, 200);
    const listed = await json<ScheduleView[]>(["schedules", "list", "--branch", "main"]);
    const j = listed.find((x) => x.name === "tick");
    assert.ok(j);
    assert.equal(j.cron, "* * * * * *");
    assert.equal(j.paused, false);
    assert.equal(j.target, rx.url("/tick"));
    assert.equal(j.failureCount, 0);
    assert.ok(j.lastRunAt && j.nextRunAt, "runtime state recorded");
  });

  test("a branch gets the job paused, fires nothing until resumed there; reset pauses it again", async () => {
    await t.branch(P, "feat");
    const copied = await job("feat", "tick");
    assert.equal(copied.paused, true);
    assert.match(
      copied.pausedReason ?? "",
      /^paused on branch \(copied from main\): resume with `bough schedules resume tick --branch feat`/,
    );
    const mainBefore = callsFrom("main").length;
    await waitFor("main still firing", () => callsFrom("main").length >= mainBefore + 3);
    assert.equal(callsFrom("feat").length, 0, "the branch called nothing");
    await assert.rejects(
      scheduleRunNow(t.ctx, { ...where("feat"), name: "tick" }),
      /does not run on feat/,
    );

    const resumed = await setPaused("feat", "tick", false);
    assert.equal(resumed.active, true);
    await waitFor("calls from feat", () => callsFrom("feat").length >= 2);
    assert.equal((await job("main", "tick")).active, true, "main unaffected");

    await resetBranch(t.ctx, { project: P, name: "feat" });
    const reset = await job("feat", "tick");
    assert.equal(reset.paused, true);
    assert.match(reset.pausedReason ?? "", /paused on branch \(copied from main\)/);
    // A call claimed just before the reset may still land; after that, nothing more.
    await sleep(1500);
    const afterReset = callsFrom("feat").length;
    const mainNow = callsFrom("main").length;
    await waitFor("main firing after the reset", () => callsFrom("main").length >= mainNow + 3);
    assert.equal(callsFrom("feat").length, afterReset, "nothing from the reset branch");
  });

  test("a merge brings the branch's cron to main and keeps main's own state", async () => {
    await t.branch(P, "slower");
    await scheduleUpdate(t.ctx, { ...where("slower"), name: "tick", cron: "*/2 * * * * *" });
    await scheduleCreate(t.ctx, {
      ...where("slower"),
      name: "nightly",
      cron: "0 3 * * *",
      url: rx.url("/nightly"),
    });
    // The branch's own state (paused there) must not reach main.
    await setPaused("slower", "tick", true);
    const mainBefore = await job("main", "tick");
    const report = await mergeBranch(t.ctx, { project: P, name: "slower" });
    assert.equal(report.merged, true, report.preview);
    const merged = await job("main", "tick");
    assert.equal(merged.cron, "*/2 * * * * *");
    assert.equal(merged.active, true, "main's job stays active (the branch's pause is its own)");
    assert.ok(merged.failureCount === 0 && merged.lastRunAt !== null);
    assert.ok(merged.lastRunAt >= (mainBefore.lastRunAt ?? ""));
    const arrived = await job("main", "nightly");
    assert.equal(arrived.paused, true);
    assert.match(
      arrived.pausedReason ?? "",
      /arrived by merge, not active on main until resumed there/,
    );
    const n = callsFrom("main").length;
    await waitFor("main still firing on its new cron", () => callsFrom("main").length >= n + 2);
  });

  test("two runners on one home never fire the same tick twice", async () => {
    const second = buildApp(t.ctx, { schedules: { sweepMs: 250, reloadMs: 250 } });
    await second.listen({ port: 0, host: "127.0.0.1" });
    try {
      await scheduleCreate(t.ctx, {
        ...where("main"),
        name: "dedupe",
        cron: "* * * * * *",
        url: rx.url("/dedupe"),
      });
      await waitFor("five dedupe calls", () => callsFrom("main", "dedupe").length >= 5);
    } finally {
      await second.close();
    }
    await setPaused("main", "dedupe", true);
    await sleep(1500);
    const ticks = await rows<{ n: number; distinct: number }>(
      t.url(P, "main"),
      "SELECT count(*)::int AS n, count(DISTINCT scheduled_for)::int AS distinct FROM schedules.runs WHERE job = 'dedupe'",
    );
    assert.equal(ticks[0].n, ticks[0].distinct);
    assert.equal(callsFrom("main", "dedupe").length, ticks[0].n, "one call per recorded run");
  });

  test("a manual run of a function target goes to the branch's own functions route", async () => {
    // Function targets are called on this server; `schedules run` finds it by its port.
    setApiPort(t.ctx, (app.server.address() as { port: number }).port);
    await scheduleCreate(t.ctx, {
      ...where("main"),
      name: "fn",
      cron: "0 0 1 1 *",
      function: "report",
    });
    const run = await scheduleRunNow(t.ctx, { ...where("main"), name: "fn" });
    // Until edge functions are served, the route answers 404: recorded as a failed run.
    assert.ok(run.httpStatus !== null, run.error ?? "");
    assert.equal(run.status, run.httpStatus < 300 ? "succeeded" : "failed");
    const j = await job("main", "fn");
    assert.equal(j.lastStatus, run.status);
    assert.equal(j.failureCount, run.status === "failed" ? 1 : 0);
  });

  test("bad input is refused with what is wrong", async () => {
    const badCron = await cli([
      "schedules",
      "create",
      "x",
      "--cron",
      "61 * * * *",
      "--url",
      rx.url(),
      "--branch",
      "main",
    ]);
    assert.equal(badCron.code, 64, badCron.stderr);
    assert.match(badCron.stderr, /invalid cron expression "61 \* \* \* \*".*minute/);
    const refused = (input: Parameters<typeof scheduleCreate>[1], code: string, re: RegExp) =>
      assert.rejects(scheduleCreate(t.ctx, input), (e: Error & { code?: string }) => {
        assert.equal(e.code, code);
        assert.match(e.message, re);
        return true;
      });
    const x = { ...where("main"), name: "x", url: rx.url() };
    await refused({ ...x, cron: "every day" }, "INVALID_INPUT", /five, six, or seven/);
    await refused({ ...x, cron: "0 0 31 2 *" }, "INVALID_INPUT", /never fires/);
    await refused(
      { ...x, cron: "* * * * *", timezone: "Mars/Base" },
      "INVALID_INPUT",
      /Mars\/Base/,
    );
    await refused(
      { ...x, cron: "* * * * *", url: "ftp://example.com/x" },
      "INVALID_INPUT",
      /only absolute http:\/\/ and https:\/\/ URLs/,
    );
    await refused(
      { ...x, cron: "* * * * *", payload: "{nope" },
      "INVALID_INPUT",
      /--payload is not JSON/,
    );
    await refused({ ...x, name: "tick", cron: "* * * * *" }, "SCHEDULE_EXISTS", /already exists/);
    const unknown = await bough(t.home, [
      "--project",
      P,
      "--json",
      "schedules",
      "pause",
      "ghost",
      "--branch",
      "main",
    ]);
    assert.equal(unknown.code, 1);
    assert.equal(JSON.parse(unknown.stdout).error.code, "SCHEDULE_NOT_FOUND");
    assert.equal(
      (await list("main")).some((j) => j.name === "x"),
      false,
      "nothing was created",
    );
  });
});
