import assert from "node:assert/strict";
import {
  closeSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import Database from "better-sqlite3";
import { openContext } from "../src/branches/context.ts";
import type { BranchDetail } from "../src/branches/list.ts";
import { listBranchInfos } from "../src/branches/list.ts";
import { isPortFree } from "../src/clusters/ports.ts";
import { selfHolder } from "../src/control/holder.ts";
import { bough, boughJson, initialisedHome, startUp, tempHome } from "./helpers/cli.ts";
import { query, rows } from "./helpers/sql.ts";
import { mountLoopXfs } from "./helpers/xfs.ts";

type BranchJson = BranchDetail;
interface Outcome {
  operation: number;
  kind: string;
  branch: string | null;
  recovered: boolean;
  attempts: number;
  error: string | null;
}

/** Postmasters whose data directory lies under dir (backends' cmdlines carry no path). */
const postmastersUnder = (dir: string) =>
  readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, "utf8").includes(dir);
      } catch {
        return false;
      }
    });

const list = async (home: string) => boughJson<BranchJson[]>(home, ["branch", "list"]);
const find = async (home: string, name: string) => (await list(home)).find((b) => b.name === name);

/** Writes to the control plane directly, as a process that died would have left it. */
function controlDb<T>(home: string, fn: (db: Database.Database) => T): T {
  const db = new Database(join(home, "control.db"));
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

describe("recovery that fails, liveness, incarnations, T0", () => {
  let home: string;
  let remove: () => Promise<void>;
  let mainUrl: string;
  const projectsDir = () => join(home, "projects");
  const branchesDir = () => join(projectsDir(), "default-1", "branches");
  const dirsOf = (name: string) =>
    readdirSync(branchesDir()).filter((d) => d.startsWith(`${name}-`));

  before(async () => {
    ({ home, mainUrl, remove } = await initialisedHome(
      "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 100)",
    ));
  });
  after(() => remove());

  for (const point of ["project-create:after-init", "project-create:before-ready"]) {
    test(`project create killed at ${point} is rolled back`, async () => {
      const killed = await bough(home, ["project", "create", "p2"], {
        env: { BOUGH_FAULT: point },
      });
      assert.equal(killed.code, 137, `expected SIGKILL, got ${killed.code}: ${killed.stderr}`);
      const projects = await boughJson<{ name: string }[]>(home, ["project", "list"]);
      assert.deepEqual(
        projects.map((p) => p.name),
        ["default"],
      );
      assert.deepEqual(readdirSync(projectsDir()), ["default-1"]);
      assert.equal(postmastersUnder(projectsDir()).length, 1, "only default's main runs");
      // the name is free again
      await boughJson(home, ["project", "create", "p2"]);
      await boughJson(home, ["project", "delete", "p2"]);
      assert.deepEqual(readdirSync(projectsDir()), ["default-1"]);
    });
  }

  for (const point of ["project-delete:after-stop", "project-delete:after-remove"]) {
    test(`project delete killed at ${point} is finished`, async () => {
      await boughJson(home, ["project", "create", "p3"]);
      const main = await boughJson<BranchJson>(home, ["--project", "p3", "branch", "show", "main"]);
      const killed = await bough(home, ["-y", "project", "delete", "p3"], {
        env: { BOUGH_FAULT: point },
      });
      assert.equal(killed.code, 137, `expected SIGKILL, got ${killed.code}: ${killed.stderr}`);
      const projects = await boughJson<{ name: string }[]>(home, ["project", "list"]);
      assert.deepEqual(
        projects.map((p) => p.name),
        ["default"],
      );
      assert.deepEqual(readdirSync(projectsDir()), ["default-1"]);
      assert.equal(postmastersUnder(projectsDir()).length, 1);
      assert.equal(await isPortFree(main.port), true);
    });
  }

  test("reset with a missing T0 clone fails clearly; the branch keeps its data and works", async () => {
    await boughJson(home, ["branch", "create", "t0less", "--no-switch"]);
    const b = await boughJson<BranchJson>(home, ["branch", "show", "t0less"]);
    await query(b.connectionString, "INSERT INTO t VALUES (1000)");
    const t0 = b.t0Dir ?? "";
    renameSync(t0, `${t0}.away`);
    const r = await bough(home, ["--json", "branch", "reset", "t0less"]);
    assert.equal(r.code, 1);
    const { error } = JSON.parse(r.stdout) as { error: { code: string; message: string } };
    assert.equal(error.code, "T0_MISSING");
    assert.match(error.message, /T0 clone of branch "t0less" is missing/);
    const after = await find(home, "t0less");
    assert.equal(after?.state, "ready");
    assert.equal(after?.running, true);
    assert.deepEqual(await rows(b.connectionString, "SELECT count(*)::int AS n FROM t"), [
      { n: 101 },
    ]);
    renameSync(`${t0}.away`, t0);
    await boughJson(home, ["branch", "reset", "t0less"]);
    assert.deepEqual(await rows(b.connectionString, "SELECT count(*)::int AS n FROM t"), [
      { n: 100 },
    ]);
    await boughJson(home, ["branch", "delete", "t0less"]);
  });

  test("a recovery that keeps failing blocks nothing; repair retries it, delete cleans it", async () => {
    await boughJson(home, ["branch", "create", "r", "--no-switch"]);
    const b = await boughJson<BranchJson>(home, ["branch", "show", "r"]);
    const t0 = b.t0Dir ?? "";
    const killed = await bough(home, ["branch", "reset", "r"], {
      env: { BOUGH_FAULT: "reset:after-remove" },
    });
    assert.equal(killed.code, 137);
    // The roll-forward of the reset cannot succeed: its T0 clone is gone.
    renameSync(t0, `${t0}.away`);
    const failed = await find(home, "r");
    assert.equal(failed?.state, "failed");
    assert.match(failed?.lastError ?? "", /recovery of an interrupted branch-reset failed: .*T0/);
    // Read-only commands, and writes on other branches, keep working.
    assert.equal((await find(home, "main"))?.state, "ready");
    const st = await boughJson<{ clusters: { branch: string; running: boolean }[] }>(home, [
      "status",
    ]);
    assert.deepEqual(
      st.clusters.map((c) => [c.branch, c.running]),
      [
        ["main", true],
        ["r", false],
      ],
    );
    const url = await bough(home, ["branch", "url", "main"]);
    assert.equal(url.code, 0, url.stderr);
    const other = await boughJson<BranchJson>(home, ["branch", "create", "other", "--no-switch"]);
    assert.equal(other.state, "ready");
    await boughJson(home, ["branch", "delete", "other"]);
    // The failed branch itself refuses work and says what to do.
    const reset = await bough(home, ["branch", "reset", "r"]);
    assert.equal(reset.code, 1);
    assert.match(reset.stderr, /branch "r" failed: .*\nhint: .*bough repair/);
    // Repair retries at once (the automatic retry waits a minute after the first failure).
    const stillFailing = await bough(home, ["--json", "repair"]);
    assert.equal(stillFailing.code, 1);
    const report = JSON.parse(stillFailing.stdout) as { operations: Outcome[] };
    assert.deepEqual(
      report.operations.map((o) => [o.kind, o.branch, o.recovered, o.attempts]),
      [["branch-reset", "r", false, 2]],
    );
    renameSync(`${t0}.away`, t0);
    const fixed = await boughJson<{ operations: Outcome[] }>(home, ["repair"]);
    assert.deepEqual(
      fixed.operations.map((o) => [o.kind, o.branch, o.recovered]),
      [["branch-reset", "r", true]],
    );
    const back = await find(home, "r");
    assert.equal(back?.state, "ready");
    assert.equal(back?.running, true);
    assert.deepEqual(await rows(back?.connectionString ?? "", "SELECT count(*)::int AS n FROM t"), [
      { n: 100 },
    ]);

    // Fail it again, then delete it: everything goes, the failed operation is closed.
    await bough(home, ["branch", "reset", "r"], { env: { BOUGH_FAULT: "reset:after-remove" } });
    renameSync(t0, `${t0}.away`);
    assert.equal((await find(home, "r"))?.state, "failed");
    await boughJson(home, ["branch", "delete", "r"]);
    assert.deepEqual(
      (await list(home)).map((x) => x.name),
      ["main"],
    );
    assert.deepEqual(dirsOf("r"), []);
    assert.equal(await isPortFree(b.port), true);
    assert.deepEqual(await boughJson<{ operations: Outcome[] }>(home, ["repair"]), {
      operations: [],
    });
    assert.deepEqual(await rows(mainUrl, "SELECT count(*)::int AS n FROM t"), [{ n: 100 }]);
  });

  test("an operation and lock left by a dead process with this process' pid are recovered", async () => {
    const killed = await bough(home, ["branch", "create", "doomed"], {
      env: { BOUGH_FAULT: "create:after-t0" },
    });
    assert.equal(killed.code, 137);
    // As after a container restart: the same pid, another process (another start time).
    const me = selfHolder();
    const stale = (me.startTicks ?? 0) + 1;
    controlDb(home, (db) => {
      db.prepare("UPDATE operations SET pid = ?, pid_start = ? WHERE status = 'running'").run(
        me.pid,
        stale,
      );
      db.prepare(
        "INSERT OR REPLACE INTO locks (scope, pid, pid_start, boot_id, acquired_at) VALUES ('home', ?, ?, ?, '')",
      ).run(me.pid, stale, me.bootId);
    });
    const ctx = await openContext({ home });
    try {
      const names = (await listBranchInfos(ctx, { project: "default" })).map((b) => b.name);
      assert.deepEqual(names, ["main"]);
    } finally {
      ctx.close();
    }
    assert.deepEqual(dirsOf("doomed"), []);
    const ops = controlDb(home, (db) =>
      db.prepare("SELECT status FROM operations WHERE branch_name = 'doomed'").all(),
    );
    assert.deepEqual(ops, [{ status: "rolled-back" }]);
  });

  test("an operation whose pid now belongs to another process is recovered", async () => {
    const killed = await bough(home, ["branch", "create", "doomed2"], {
      env: { BOUGH_FAULT: "create:after-clone" },
    });
    assert.equal(killed.code, 137);
    // This test process is alive, but it is not the process that ran the create.
    const me = selfHolder();
    controlDb(home, (db) =>
      db
        .prepare("UPDATE operations SET pid = ?, pid_start = ? WHERE status = 'running'")
        .run(me.pid, (me.startTicks ?? 0) + 1),
    );
    assert.deepEqual(
      (await list(home)).map((b) => b.name),
      ["main"],
    );
    assert.deepEqual(dirsOf("doomed2"), []);
  });

  test("a late rollback of an old incarnation leaves a re-created branch alone", async () => {
    const killed = await bough(home, ["branch", "create", "same"], {
      env: { BOUGH_FAULT: "create:after-t0" },
    });
    assert.equal(killed.code, 137);
    // Its process looks alive for a while (this test process, with its true start time),
    // so nothing recovers the create, while the half-made branch is deleted and re-created.
    const me = selfHolder();
    const setHolder = (ticks: number | null) =>
      controlDb(home, (db) =>
        db
          .prepare(
            "UPDATE operations SET pid = ?, pid_start = ?, boot_id = ? WHERE status = 'running' AND branch_name = 'same'",
          )
          .run(me.pid, ticks, me.bootId),
      );
    setHolder(me.startTicks);
    assert.equal((await find(home, "same"))?.state, "creating");
    await boughJson(home, ["branch", "delete", "same"]);
    const again = await boughJson<BranchJson>(home, ["branch", "create", "same", "--no-switch"]);
    await query(again.connectionString, "INSERT INTO t VALUES (5000)");
    // The old holder dies: the next command rolls its create back.
    setHolder((me.startTicks ?? 0) + 1);
    const now = await find(home, "same");
    assert.equal(now?.state, "ready");
    assert.equal(now?.running, true);
    assert.equal(now?.port, again.port);
    assert.deepEqual(await rows(again.connectionString, "SELECT count(*)::int AS n FROM t"), [
      { n: 101 },
    ]);
    const ops = controlDb(home, (db) =>
      db
        .prepare(
          "SELECT status FROM operations WHERE kind = 'branch-create' AND branch_name = 'same' ORDER BY id",
        )
        .all(),
    );
    assert.deepEqual(ops, [{ status: "rolled-back" }, { status: "done" }]);
    await boughJson(home, ["branch", "delete", "same"]);
  });
});

test("bough up + Ctrl-C: main is stopped, not crashed; what others started is named", async () => {
  const { home, remove } = await tempHome();
  try {
    const up = await startUp(home);
    const { exited } = up;
    assert.match(up.output(), /bough is up/);
    await boughJson<BranchJson>(home, ["branch", "create", "side", "--no-switch"]);
    up.proc.kill("SIGINT");
    assert.equal(await exited, 0, up.output());
    assert.match(up.output(), /stopped main\n/);
    assert.match(up.output(), /still running \(started by other commands\): side;/);
    const main = await boughJson<BranchJson>(home, ["branch", "show", "main"]);
    assert.equal(main.running, false);
    assert.equal(main.crashed, false);
    const table = await bough(home, ["branch", "list"]);
    assert.match(table.stdout, /│ main │ -\s+│ full │ ready │ no\s+│/);
    // The string printed while up ran went through its proxy: ask again for the direct one.
    const direct = await boughJson<BranchJson>(home, ["branch", "show", "side"]);
    assert.deepEqual(await rows(direct.connectionString, "SELECT 1 AS ok"), [{ ok: 1 }]);
  } finally {
    await remove();
  }
});

/** Writes zeros to a file under dir until the filesystem has no block left. */
function fillDisk(dir: string): string {
  const file = join(dir, "fill");
  const fd = openSync(file, "w");
  try {
    for (const size of [1 << 20, 4096, 512]) {
      const zeros = Buffer.alloc(size);
      for (;;) {
        try {
          writeSync(fd, zeros);
        } catch {
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return file;
}

test("on a full disk read-only commands work, writes fail clearly, and bough recovers after", async (t) => {
  const xfs = await mountLoopXfs({ sizeMb: 400 });
  if (!xfs.ok) {
    t.skip(xfs.reason);
    return;
  }
  const { home, remove } = await tempHome(xfs.dir);
  try {
    await boughJson(home, ["init"]);
    await boughJson(home, ["branch", "create", "r", "--no-switch"]);
    const killed = await bough(home, ["branch", "reset", "r"], {
      env: { BOUGH_FAULT: "reset:after-remove" },
    });
    assert.equal(killed.code, 137);
    const fill = fillDisk(xfs.dir);
    const listed = await list(home);
    assert.deepEqual(
      listed.map((b) => [b.name, b.state, b.running]),
      [
        ["main", "ready", true],
        ["r", "resetting", false],
      ],
    );
    const st = await boughJson<{ cloneDriver: string }>(home, ["status"]);
    assert.equal(st.cloneDriver, "reflink");
    const url = await bough(home, ["branch", "url", "main"]);
    assert.equal(url.code, 0, url.stderr);
    const created = await bough(home, ["--json", "branch", "create", "x"]);
    assert.equal(created.code, 1);
    const { error } = JSON.parse(created.stdout) as { error: { code: string; message: string } };
    assert.equal(error.code, "ENVIRONMENT");
    assert.match(error.message, /^no space left to write/);
    rmSync(fill);
    // With space again, the next command finishes the interrupted reset.
    assert.deepEqual(
      (await list(home)).map((b) => [b.name, b.state, b.running]),
      [
        ["main", "ready", true],
        ["r", "ready", true],
      ],
    );
  } finally {
    await remove();
    await xfs.cleanup();
  }
});
