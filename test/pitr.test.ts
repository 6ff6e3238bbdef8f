import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import type { CompareReport } from "../src/branches/compare.ts";
import { compareBranches } from "../src/branches/compare.ts";
import { createBranch } from "../src/branches/create.ts";
import { branchKeys } from "../src/branches/keys.ts";
import { listBranchInfos } from "../src/branches/list.ts";
import { restoreBranch } from "../src/branches/restore.ts";
import type { BoughError } from "../src/core/errors.ts";
import { bough, boughJson } from "./helpers/cli.ts";
import { type TestHome, testHome } from "./helpers/project.ts";
import { query, rows } from "./helpers/sql.ts";

const P = "p";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const values = async (url: string) =>
  (await rows<{ v: number }>(url, "SELECT v FROM t ORDER BY v")).map((r) => r.v);

describe("point in time: branch create --at/--lsn, restore, diff", () => {
  let t: TestHome;
  let workUrl: string;
  /** Between the two writes: the first is before it, the second after. */
  let between: Date;
  let betweenLsn: string;
  const names = async () =>
    (await listBranchInfos(t.ctx, { project: P })).map((b) => b.name).sort();

  before(async () => {
    t = await testHome();
    await t.project(P);
    workUrl = await t.branch(P, "work");
    await query(workUrl, "CREATE TABLE t (v int); INSERT INTO t VALUES (1), (2)");
    await sleep(20);
    between = new Date();
    betweenLsn = (await rows<{ l: string }>(workUrl, "SELECT pg_current_wal_lsn()::text AS l"))[0]
      .l;
    await sleep(20);
    await query(workUrl, "INSERT INTO t VALUES (3), (4)");
  });
  after(() => t.dispose());

  test("create --at a time between two writes sees exactly the first", async () => {
    const { branch } = await createBranch(t.ctx, {
      project: P,
      name: "past",
      from: "work",
      at: between.toISOString(),
      switchTo: false,
    });
    assert.equal(branch.parent, "work");
    assert.equal(branch.state, "ready");
    assert.deepEqual(await values(branch.connectionString), [1, 2]);
    // A normal branch afterwards: its own writes, the parent untouched.
    await query(branch.connectionString, "INSERT INTO t VALUES (9)");
    assert.deepEqual(await values(workUrl), [1, 2, 3, 4]);
  });

  test("create --lsn between two writes sees exactly the first", async () => {
    const { branch } = await createBranch(t.ctx, {
      project: P,
      name: "past-lsn",
      from: "work",
      lsn: betweenLsn,
      switchTo: false,
    });
    assert.deepEqual(await values(branch.connectionString), [1, 2]);
  });

  test("a point before the window or in the future is refused and leaves nothing", async () => {
    // Through the CLI: the exit code and the window in the message.
    const r = await bough(t.home, [
      "--project",
      P,
      "branch",
      "create",
      "bad",
      "--from",
      "work",
      "--at",
      "10 years ago",
    ]);
    assert.equal(r.code, 64, r.stderr);
    assert.match(
      r.stderr,
      /before the window: the history of branch "work" covers \d{4}-\d\d-\d\dT[\d:.]+Z\.\.\d{4}-/,
    );
    for (const [o, why] of [
      [{ at: "tomorrow" }, /in the future/],
      [{ lsn: "FF/0" }, /in the future/],
      [{ at: "now", lsn: "0/1" }, /exclusive/],
    ] as const) {
      await assert.rejects(
        createBranch(t.ctx, { project: P, name: "bad", from: "work", switchTo: false, ...o }),
        (e: BoughError) => e.code === "INVALID_INPUT" && why.test(e.message),
      );
    }
    assert.deepEqual(await names(), ["main", "past", "past-lsn", "work"]);
    const branchesDir = t.dirs(P, "work").dir.replace(/\/[^/]+$/, "");
    assert.deepEqual(
      readdirSync(branchesDir).filter((d) => d.startsWith("bad-")),
      [],
    );
  });

  test("branch diff A B shows a table added on one side, and B as of a time", async () => {
    await query(workUrl, "CREATE TABLE added (x int)");
    const d = await boughJson<CompareReport>(t.home, [
      "--project",
      P,
      "branch",
      "diff",
      "past",
      "work",
    ]);
    assert.ok(
      d.changes.some((c) => c.type === "create" && c.id.includes("added")),
      JSON.stringify(d.changes.map((c) => c.id)),
    );
    assert.match(d.summary, /\+ create .*added/);
    // `date -d` syntax (@epoch): work back then had no table "added".
    const then = await compareBranches(t.ctx, {
      project: P,
      a: "work",
      b: "work",
      at: `@${between.getTime() / 1000}`,
    });
    assert.ok(then.changes.some((c) => c.type === "drop" && c.id.includes("added")));
  });

  test("a restore killed after its backup is rolled back: branch as it was, no backup", async () => {
    const killed = await bough(
      t.home,
      ["-y", "--project", P, "branch", "restore", "work", "--at", `@${between.getTime() / 1000}`],
      { env: { BOUGH_FAULT: "restore:after-backup" } },
    );
    assert.equal(killed.code, 137, killed.stderr);
    // The next operation recovers: the restore is undone and its backup removed.
    assert.deepEqual(await names(), ["main", "past", "past-lsn", "work"]);
    const work = (await listBranchInfos(t.ctx, { project: P })).find((b) => b.name === "work");
    assert.equal(work?.state, "ready");
    assert.deepEqual(await values(workUrl), [1, 2, 3, 4]);
    assert.deepEqual(
      readdirSync(t.dirs(P, "work").dir).filter((d) => d.startsWith("restore-")),
      [],
    );
  });

  test("restore returns the branch to its past and keeps its present as a backup", async () => {
    const keys = await branchKeys(t.ctx, { project: P, name: "work" });
    const port = new URL(workUrl).port;
    const r = await restoreBranch(t.ctx, {
      project: P,
      name: "work",
      at: `@${between.getTime() / 1000}`,
    });
    assert.ok(r.backup?.startsWith("work-before-restore-"));
    assert.equal(String(r.branch.port), port);
    assert.deepEqual(await values(workUrl), [1, 2]);
    assert.deepEqual(await values(t.url(P, String(r.backup))), [1, 2, 3, 4]);
    assert.equal((await branchKeys(t.ctx, { project: P, name: "work" })).secretKey, keys.secretKey);
    // The restored branch writes on: a new timeline, archived beside the old one.
    await query(workUrl, "INSERT INTO t VALUES (5)");
    assert.deepEqual(await values(workUrl), [1, 2, 5]);
  });
});
