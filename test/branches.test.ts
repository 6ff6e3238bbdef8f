import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import type { BranchDetail } from "../src/branches/list.ts";
import { isPortFree } from "../src/clusters/ports.ts";
import { bough, boughJson, initialisedHome } from "./helpers/cli.ts";
import { query, rows } from "./helpers/sql.ts";

type BranchJson = BranchDetail;

describe("branch lifecycle through the CLI", () => {
  let home: string;
  let remove: () => Promise<void>;
  let mainUrl: string;

  before(async () => {
    ({ home, mainUrl, remove } = await initialisedHome(
      "CREATE TABLE items (id serial PRIMARY KEY, label text NOT NULL); INSERT INTO items (label) SELECT 'row ' || g FROM generate_series(1, 1000) g",
    ));
  });
  after(() => remove());

  test("init is idempotent and status reports the driver and version", async () => {
    const again = await boughJson<{ created: boolean }>(home, ["init"]);
    assert.equal(again.created, false);
    const s = await boughJson<{
      home: string;
      cloneDriver: string;
      postgresVersion: string;
      clusters: { project: string; branch: string; running: boolean; crashed: boolean }[];
    }>(home, ["status"]);
    assert.equal(s.home, home);
    assert.ok(["reflink", "copy"].includes(s.cloneDriver));
    assert.match(s.postgresVersion, /^\d+/);
    assert.deepEqual(
      s.clusters.map((c) => [c.project, c.branch, c.running, c.crashed]),
      [["default", "main", true, false]],
    );
  });

  test("a branch sees the parent's data and writes stay on their side", async () => {
    const b = await boughJson<BranchJson & { elapsedMs: number; cloneDriver: string }>(home, [
      "branch",
      "create",
      "feature",
    ]);
    assert.equal(b.parent, "main");
    assert.equal(b.mode, "full");
    assert.equal(b.state, "ready");
    assert.ok(b.running);
    assert.ok(b.forkLsn);
    assert.deepEqual(await rows(b.connectionString, "SELECT count(*)::int AS n FROM items"), [
      { n: 1000 },
    ]);
    await query(b.connectionString, "INSERT INTO items (label) VALUES ('branch only')");
    await query(mainUrl, "INSERT INTO items (label) VALUES ('main only')");
    assert.deepEqual(
      await rows(
        b.connectionString,
        "SELECT count(*)::int AS n FROM items WHERE label = 'main only'",
      ),
      [{ n: 0 }],
    );
    assert.deepEqual(
      await rows(mainUrl, "SELECT count(*)::int AS n FROM items WHERE label = 'branch only'"),
      [{ n: 0 }],
    );
    // create switched the current branch
    const url = await bough(home, ["branch", "url"]);
    assert.equal(url.stdout.trim(), b.connectionString);
  });

  test("create while a client keeps writing on the parent", async () => {
    let stop = false;
    // One writer, one autocommit insert at a time: commit order is id order.
    const written: number[] = [];
    const writer = (async () => {
      const { default: pg } = await import("pg");
      const c = new pg.Client({ connectionString: mainUrl });
      await c.connect();
      while (!stop) {
        const r = await c.query<{ id: number }>(
          "INSERT INTO items (label) VALUES ('concurrent') RETURNING id",
        );
        written.push(r.rows[0].id);
      }
      await c.end();
    })();
    const b = await boughJson<BranchJson>(home, ["branch", "create", "busy", "--no-switch"]);
    stop = true;
    await writer;
    assert.ok(written.length > 0);
    const ids = async (url: string) =>
      (
        await rows<{ id: number }>(
          url,
          "SELECT id FROM items WHERE label = 'concurrent' ORDER BY id",
        )
      ).map((r) => r.id);
    assert.deepEqual(await ids(mainUrl), written);
    // The branch is the parent at one instant: exactly the rows committed before it, no gap.
    const onBranch = await ids(b.connectionString);
    assert.deepEqual(onBranch, written.slice(0, onBranch.length));
    const current = await bough(home, ["branch", "url"]);
    assert.notEqual(
      current.stdout.trim(),
      b.connectionString,
      "--no-switch keeps the current branch",
    );
  });

  test("schema-only keeps the schema and empties the rows", async () => {
    const b = await boughJson<BranchJson>(home, [
      "branch",
      "create",
      "shape",
      "--mode",
      "schema-only",
    ]);
    assert.equal(b.mode, "schema-only");
    assert.deepEqual(await rows(b.connectionString, "SELECT count(*)::int AS n FROM items"), [
      { n: 0 },
    ]);
    await query(b.connectionString, "INSERT INTO items (label) VALUES ('x')");
    await boughJson(home, ["branch", "reset", "shape"]);
    assert.deepEqual(await rows(b.connectionString, "SELECT count(*)::int AS n FROM items"), [
      { n: 0 },
    ]);
  });

  test("nested branches and reset to T0 after schema and data changes", async () => {
    await boughJson(home, ["branch", "create", "child", "--from", "feature"]);
    const g = await boughJson<BranchJson>(home, [
      "branch",
      "create",
      "grandchild",
      "--from",
      "child",
    ]);
    assert.equal(g.parent, "child");
    const before = await rows(
      g.connectionString,
      "SELECT count(*)::int AS n FROM items WHERE label = 'branch only'",
    );
    assert.deepEqual(before, [{ n: 1 }], "inherits feature's write through child");
    await query(
      g.connectionString,
      "ALTER TABLE items ADD COLUMN extra int; DELETE FROM items; CREATE TABLE scratch (x int)",
    );
    const reset = await boughJson<BranchJson>(home, ["branch", "reset", "grandchild"]);
    assert.equal(reset.state, "ready");
    const url = reset.connectionString;
    assert.deepEqual(
      await rows(url, "SELECT count(*)::int AS n FROM items WHERE label = 'branch only'"),
      [{ n: 1 }],
    );
    assert.deepEqual(await rows(url, "SELECT to_regclass('scratch') IS NULL AS gone"), [
      { gone: true },
    ]);
    assert.deepEqual(
      await rows(
        url,
        "SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'items'",
      ),
      [{ n: 2 }],
    );
  });

  test("list shows every branch with stable JSON fields", async () => {
    const list = await boughJson<BranchJson[]>(home, ["branch", "list"]);
    const names = list.map((b) => b.name).sort();
    assert.deepEqual(names, ["busy", "child", "feature", "grandchild", "main", "shape"]);
    for (const b of list) {
      for (const key of [
        "name",
        "parent",
        "mode",
        "state",
        "running",
        "createdAt",
        "connectionString",
      ]) {
        assert.ok(key in b, `${key} in list --json`);
      }
    }
    const table = await bough(home, ["branch", "list"]);
    assert.equal(table.code, 0);
    for (const h of ["Name", "Parent", "Mode", "State", "Running", "Created", "Disk"]) {
      assert.match(table.stdout, new RegExp(h));
    }
  });

  test("delete refuses main and parents, and leaves no process, port or directory", async () => {
    const mainDel = await bough(home, ["-y", "branch", "delete", "main"]);
    assert.equal(mainDel.code, 1);
    assert.match(mainDel.stderr, /root branch/);
    const parentDel = await bough(home, ["-y", "branch", "delete", "feature"]);
    assert.equal(parentDel.code, 1);
    assert.match(parentDel.stderr, /child branches: child/);
    assert.match(parentDel.stderr, /--recursive/);
    const doomed = await boughJson<BranchJson>(home, ["branch", "show", "feature"]);
    const child = await boughJson<BranchJson>(home, ["branch", "show", "grandchild"]);
    const r = await boughJson<{ deleted: string[] }>(home, [
      "branch",
      "delete",
      "feature",
      "--recursive",
    ]);
    assert.deepEqual(r.deleted, ["grandchild", "child", "feature"]);
    for (const b of [doomed, child]) {
      assert.ok(await isPortFree(b.port), `port ${b.port} released`);
      assert.ok(!existsSync(b.dataDir ?? ""), "data dir removed");
      assert.ok(!existsSync(b.t0Dir ?? ""), "T0 removed");
    }
    const list = await boughJson<BranchJson[]>(home, ["branch", "list"]);
    assert.ok(!list.some((b) => b.name === "feature"));
  });

  test("bad input: exit 64 with the rule, unknown branch exit 1 with a hint", async () => {
    for (const bad of ["Bad", "1abc", "a_b", "x".repeat(64), "-x"]) {
      const r = await bough(home, ["branch", "create", "--", bad]);
      assert.equal(r.code, 64, `${bad}: ${r.stderr}`);
      assert.match(r.stderr, /invalid branch name/);
      assert.match(r.stderr, /lowercase letters, digits and hyphens/);
    }
    const missing = await bough(home, ["branch", "show", "nope"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /branch "nope" does not exist/);
    assert.match(missing.stderr, /hint: /);
    const json = await bough(home, ["--json", "branch", "show", "nope"]);
    assert.equal(JSON.parse(json.stdout).error.code, "BRANCH_NOT_FOUND");
    const usage = await bough(home, ["branch", "create"]);
    assert.equal(usage.code, 64);
    const mode = await bough(home, ["branch", "create", "m", "--mode", "weird"]);
    assert.equal(mode.code, 64);
    const dup = await bough(home, ["branch", "create", "busy"]);
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /already exists/);
  });

  test("a crashed branch shows in list and start recovers it", async () => {
    const b = await boughJson<BranchJson & { dataDir: string }>(home, ["branch", "show", "busy"]);
    // A committed row must survive the crash (crash recovery replays the WAL).
    await query(b.connectionString, "INSERT INTO items (label) VALUES ('before the crash')");
    const [{ n: total }] = await rows<{ n: number }>(
      b.connectionString,
      "SELECT count(*)::int AS n FROM items",
    );
    const { readFileSync } = await import("node:fs");
    const pid = Number(readFileSync(`${b.dataDir}/postmaster.pid`, "utf8").split("\n")[0]);
    process.kill(pid, "SIGKILL");
    await new Promise((r) => setTimeout(r, 300));
    const crashed = (await boughJson<BranchJson[]>(home, ["branch", "list"])).find(
      (x) => x.name === "busy",
    );
    assert.equal(crashed?.running, false);
    assert.equal(crashed?.crashed, true);
    const started = await boughJson<BranchJson>(home, ["branch", "start", "busy"]);
    assert.equal(started.running, true);
    assert.deepEqual(
      await rows(
        started.connectionString,
        "SELECT count(*)::int AS n, count(*) FILTER (WHERE label = 'before the crash')::int AS kept FROM items",
      ),
      [{ n: total, kept: 1 }],
    );
  });

  test("two processes creating the same branch: one wins, the other fails cleanly", async () => {
    const [a, b] = await Promise.all([
      bough(home, ["--json", "branch", "create", "race", "--no-switch"]),
      bough(home, ["--json", "branch", "create", "race", "--no-switch"]),
    ]);
    const codes = [a.code, b.code].sort();
    assert.deepEqual(codes, [0, 1], `${a.stderr}\n${b.stderr}`);
    const loser = a.code === 1 ? a : b;
    assert.match(loser.stderr, /already exists/);
    const list = await boughJson<BranchJson[]>(home, ["branch", "list"]);
    assert.equal(list.filter((x) => x.name === "race").length, 1);
  });
});
