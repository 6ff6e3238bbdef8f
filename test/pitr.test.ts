import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { CompareReport } from "../src/branches/compare.ts";
import type { BranchDetail } from "../src/branches/list.ts";
import type { RestoreResult } from "../src/branches/restore.ts";
import { bough, boughJson, initialisedHome } from "./helpers/cli.ts";
import { query, rows } from "./helpers/sql.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const values = async (url: string) =>
  (await rows<{ v: number }>(url, "SELECT v FROM t ORDER BY v")).map((r) => r.v);

describe("point in time: branch create --at/--lsn, restore, diff", () => {
  let home: string;
  let remove: () => Promise<void>;
  let workUrl: string;
  let workPort: number;
  /** Between the two writes: the first is before it, the second after. */
  let between: Date;
  let betweenLsn: string;

  before(async () => {
    ({ home, remove } = await initialisedHome("SELECT 1"));
    const work = await boughJson<BranchDetail>(home, ["branch", "create", "work", "--no-switch"]);
    workUrl = work.connectionString;
    workPort = work.port;
    await query(workUrl, "CREATE TABLE t (v int); INSERT INTO t VALUES (1), (2)");
    await sleep(20);
    between = new Date();
    betweenLsn = (await rows<{ l: string }>(workUrl, "SELECT pg_current_wal_lsn()::text AS l"))[0]
      .l;
    await sleep(20);
    await query(workUrl, "INSERT INTO t VALUES (3), (4)");
  });
  after(() => remove());

  test("create --at a time between two writes sees exactly the first", async () => {
    const b = await boughJson<BranchDetail>(home, [
      "branch",
      "create",
      "past",
      "--from",
      "work",
      "--at",
      between.toISOString(),
      "--no-switch",
    ]);
    assert.equal(b.parent, "work");
    assert.equal(b.state, "ready");
    assert.deepEqual(await values(b.connectionString), [1, 2]);
    // A normal branch afterwards: its own writes, the parent untouched.
    await query(b.connectionString, "INSERT INTO t VALUES (9)");
    assert.deepEqual(await values(workUrl), [1, 2, 3, 4]);
  });

  test("create --lsn between two writes sees exactly the first", async () => {
    const b = await boughJson<BranchDetail>(home, [
      "branch",
      "create",
      "past-lsn",
      "--from",
      "work",
      "--lsn",
      betweenLsn,
      "--no-switch",
    ]);
    assert.deepEqual(await values(b.connectionString), [1, 2]);
  });

  test("a point before the window or in the future is refused and leaves nothing", async () => {
    for (const [at, why] of [
      ["10 years ago", /before the window/],
      ["tomorrow", /in the future/],
    ] as const) {
      const r = await bough(home, ["branch", "create", "bad", "--from", "work", "--at", at]);
      assert.equal(r.code, 64, r.stderr);
      assert.match(r.stderr, why);
      assert.match(r.stderr, /covers \d{4}-\d\d-\d\dT[\d:.]+Z\.\.\d{4}-/);
    }
    const both = await bough(home, ["branch", "create", "bad", "--at", "now", "--lsn", "0/1"]);
    assert.equal(both.code, 64);
    assert.match(both.stderr, /exclusive/);
    const list = await boughJson<{ name: string }[]>(home, ["branch", "list"]);
    assert.deepEqual(list.map((b) => b.name).sort(), ["main", "past", "past-lsn", "work"]);
    const branchesDir = join(home, "projects", readdirSync(join(home, "projects"))[0], "branches");
    assert.deepEqual(
      readdirSync(branchesDir).filter((d) => d.startsWith("bad-")),
      [],
    );
  });

  test("branch diff A B shows a table added on one side, and B as of a time", async () => {
    await query(workUrl, "CREATE TABLE added (x int)");
    const d = await boughJson<CompareReport>(home, ["branch", "diff", "past", "work"]);
    assert.ok(
      d.changes.some((c) => c.type === "create" && c.id.includes("added")),
      JSON.stringify(d.changes.map((c) => c.id)),
    );
    assert.match(d.summary, /\+ create .*added/);
    // `date -d` syntax (@epoch): work back then had no table "added".
    const then = await boughJson<CompareReport>(home, [
      "branch",
      "diff",
      "work",
      "work",
      "--at",
      `@${between.getTime() / 1000}`,
    ]);
    assert.ok(then.changes.some((c) => c.type === "drop" && c.id.includes("added")));
  });

  test("a restore killed after its backup is rolled back: branch as it was, no backup", async () => {
    const killed = await bough(
      home,
      ["-y", "branch", "restore", "work", "--at", `@${between.getTime() / 1000}`],
      { env: { BOUGH_FAULT: "restore:after-backup" } },
    );
    assert.equal(killed.code, 137, killed.stderr);
    // The next command recovers: the restore is undone and its backup removed.
    const list = await boughJson<{ name: string; state: string }[]>(home, ["branch", "list"]);
    assert.deepEqual(list.map((b) => b.name).sort(), ["main", "past", "past-lsn", "work"]);
    assert.equal(list.find((b) => b.name === "work")?.state, "ready");
    assert.deepEqual(await values(workUrl), [1, 2, 3, 4]);
    const branchesDir = join(home, "projects", readdirSync(join(home, "projects"))[0], "branches");
    const workDir = readdirSync(branchesDir).find((d) => d.startsWith("work-")) ?? "";
    assert.deepEqual(
      readdirSync(join(branchesDir, workDir)).filter((d) => d.startsWith("restore-")),
      [],
    );
  });

  test("restore returns the branch to its past and keeps its present as a backup", async () => {
    const keys = await boughJson<{ secretKey: string }>(home, ["branch", "keys", "work"]);
    const r = await boughJson<RestoreResult>(home, [
      "branch",
      "restore",
      "work",
      "--at",
      `@${between.getTime() / 1000}`,
    ]);
    assert.ok(r.backup?.startsWith("work-before-restore-"));
    assert.equal(r.branch.port, workPort);
    assert.deepEqual(await values(workUrl), [1, 2]);
    const backup = await boughJson<BranchDetail>(home, ["branch", "show", String(r.backup)]);
    assert.deepEqual(await values(backup.connectionString), [1, 2, 3, 4]);
    assert.equal(
      (await boughJson<{ secretKey: string }>(home, ["branch", "keys", "work"])).secretKey,
      keys.secretKey,
    );
    // The restored branch writes on: a new timeline, archived beside the old one.
    await query(workUrl, "INSERT INTO t VALUES (5)");
    assert.deepEqual(await values(workUrl), [1, 2, 5]);
  });
});
