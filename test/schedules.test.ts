import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { FastifyInstance } from "fastify";
import { mergeBranch } from "../src/branches/merge.ts";
import { resetBranch } from "../src/branches/reset.ts";
import type { ScheduleView } from "../src/branches/schedules.ts";
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
  const list = (branch: string) => json<ScheduleView[]>(["schedules", "list", "--branch", branch]);
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
    const j = await job("main", "tick");
    assert.equal(j.cron, "* * * * * *");
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
    const refused = await cli(["schedules", "run", "tick", "--branch", "feat"]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /paused on branch/);

    const resumed = await json<ScheduleView>(["schedules", "resume", "tick", "--branch", "feat"]);
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
    await json(["schedules", "update", "tick", "--cron", "*/2 * * * * *", "--branch", "slower"]);
    await json([
      "schedules",
      "create",
      "nightly",
      "--cron",
      "0 3 * * *",
      "--url",
      rx.url("/nightly"),
      "--branch",
      "slower",
    ]);
    // Runtime state the branch builds up of its own must not reach main.
    await json(["schedules", "pause", "tick", "--branch", "slower"]);
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
      await json([
        "schedules",
        "create",
        "dedupe",
        "--cron",
        "* * * * * *",
        "--url",
        rx.url("/dedupe"),
        "--branch",
        "main",
      ]);
      await waitFor("five dedupe calls", () => callsFrom("main", "dedupe").length >= 5);
    } finally {
      await second.close();
    }
    await json(["schedules", "pause", "dedupe", "--branch", "main"]);
    await sleep(1500);
    const ticks = await rows<{ n: number; distinct: number }>(
      t.url(P, "main"),
      "SELECT count(*)::int AS n, count(DISTINCT scheduled_for)::int AS distinct FROM schedules.runs WHERE job = 'dedupe'",
    );
    assert.equal(ticks[0].n, ticks[0].distinct);
    assert.equal(callsFrom("main", "dedupe").length, ticks[0].n, "one call per recorded run");
  });

  test("a manual run and a function target through the branch's own route", async () => {
    await json([
      "schedules",
      "create",
      "fn",
      "--cron",
      "0 0 1 1 *",
      "--function",
      "report",
      "--branch",
      "main",
    ]);
    const port = (app.server.address() as { port: number }).port;
    await json(["schedules", "pause", "fn", "--branch", "main"]);
    const fired = await json<ScheduleView>(["schedules", "resume", "fn", "--branch", "main"]);
    assert.equal(fired.active, true);
    const r = await bough(t.home, [
      "--project",
      P,
      "--json",
      "schedules",
      "run",
      "fn",
      "--branch",
      "main",
    ]);
    void port;
    assert.equal(r.code, 0, r.stderr);
    const run = JSON.parse(r.stdout) as RunRow;
    assert.ok(run.status === "failed" || run.status === "succeeded");
    const j = await job("main", "fn");
    assert.equal(j.lastStatus, run.status);
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
    const fields = await cli([
      "schedules",
      "create",
      "x",
      "--cron",
      "every day",
      "--url",
      rx.url(),
      "--branch",
      "main",
    ]);
    assert.equal(fields.code, 64);
    assert.match(fields.stderr, /five, six, or seven/);
    const badUrl = await cli([
      "schedules",
      "create",
      "x",
      "--cron",
      "* * * * *",
      "--url",
      "ftp://example.com/x",
      "--branch",
      "main",
    ]);
    assert.equal(badUrl.code, 64);
    assert.match(badUrl.stderr, /only absolute http:\/\/ and https:\/\/ URLs/);
    const badJson = await cli([
      "schedules",
      "create",
      "x",
      "--cron",
      "* * * * *",
      "--url",
      rx.url(),
      "--payload",
      "{nope",
      "--branch",
      "main",
    ]);
    assert.equal(badJson.code, 64);
    assert.match(badJson.stderr, /--payload is not JSON/);
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
    const dup = await cli([
      "schedules",
      "create",
      "tick",
      "--cron",
      "* * * * *",
      "--url",
      rx.url(),
      "--branch",
      "main",
    ]);
    assert.match(dup.stderr, /already exists/);
    assert.equal(
      (await list("main")).some((j) => j.name === "x"),
      false,
      "nothing was created",
    );
  });
});
