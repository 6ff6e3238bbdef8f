import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { diffBranch } from "../src/branches/diff.ts";
import { requireProject } from "../src/branches/lookup.ts";
import { mergeBranch } from "../src/branches/merge.ts";
import { migrateApply } from "../src/branches/migrate.ts";
import { withClient } from "../src/branches/sql.ts";
import type { BoughError } from "../src/core/errors.ts";
import { applyInTransaction } from "../src/merge/apply.ts";
import { ensureBookkeeping } from "../src/merge/bookkeeping.ts";
import { checksumOf } from "../src/merge/migrations.ts";
import { bough } from "./helpers/cli.ts";
import { type TestHome, testHome } from "./helpers/project.ts";
import { query, rows } from "./helpers/sql.ts";

/**
 * Everything of the parent a leaked migration could touch, read straight from its
 * catalogs: public relations and their kinds, a sequence's position, recorded migrations.
 */
async function parentState(url: string) {
  return {
    relations: await rows(
      url,
      `SELECT n.nspname || '.' || c.relname || ':' || c.relkind::text AS r
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' ORDER BY 1`,
    ),
    seq: await rows(url, "SELECT last_value::int, is_called FROM public.s"),
    migrations: await rows(
      url,
      "SELECT CASE WHEN to_regclass('bough.migrations') IS NULL THEN -1 ELSE (SELECT count(*)::int FROM bough.migrations) END AS n",
    ),
  };
}

const refusedWith = (code: string, pattern: RegExp) => (err: BoughError) => {
  assert.equal(err.code, code, err.message);
  assert.match(err.message, pattern);
  return true;
};

describe("migrations cannot end bough's transaction; read-only commands write nothing", () => {
  let t: TestHome;
  let n = 0;
  async function setup(): Promise<{ project: string; main: string; branch: string }> {
    const project = `h${++n}`;
    const main = await t.project(project);
    await query(main, "CREATE TABLE t (id int PRIMARY KEY, v text); CREATE SEQUENCE s");
    const branch = await t.branch(project, "b");
    return { project, main, branch };
  }
  async function migrationFile(name: string, sql: string): Promise<string> {
    const file = join(t.home, name);
    await writeFile(file, sql);
    return file;
  }
  const scratchEmpty = (project: string) => {
    const dir = t.ctx.paths.scratchDir(requireProject(t.ctx, project));
    return !existsSync(dir) || readdirSync(dir).length === 0;
  };

  before(async () => {
    t = await testHome();
  });
  after(() => t.dispose());

  test("diff and dry-run replay a BEGIN … COMMIT migration without touching the parent", async () => {
    const s = await setup();
    const file = await migrationFile(
      "001_leak.sql",
      "BEGIN;\nCREATE TABLE leaked (x int);\nSELECT nextval('public.s');\nCOMMIT;\n",
    );
    const applied = await migrateApply(t.ctx, { project: s.project, branch: "b", file });
    assert.equal(applied.applied, true);
    // the file is recorded as written; its outer wrapper was dropped when it ran
    assert.deepEqual(await rows(s.branch, "SELECT name, sql FROM bough.migrations"), [
      {
        name: "001_leak.sql",
        sql: "BEGIN;\nCREATE TABLE leaked (x int);\nSELECT nextval('public.s');\nCOMMIT;\n",
      },
    ]);
    const before = await parentState(s.main);
    assert.deepEqual(before.seq, [{ last_value: 1, is_called: false }]);
    const d = await diffBranch(t.ctx, { project: s.project, name: "b" });
    assert.deepEqual(d.migrations, ["001_leak.sql"]);
    assert.deepEqual(d.branchChanges, [], "the replayed migration explains the whole change");
    const dry = await mergeBranch(t.ctx, { project: s.project, name: "b", dryRun: true });
    assert.match(dry.preview, /\[MIGRATION\][\s\S]*CREATE TABLE leaked/);
    assert.deepEqual(await parentState(s.main), before, "nothing reached the parent");
    assert.ok(scratchEmpty(s.project), "the replay clone is removed");
    // and the real merge applies it once, in one transaction
    const r = await mergeBranch(t.ctx, { project: s.project, name: "b" });
    assert.equal(r.merged, true, r.preview);
    const merged = await parentState(s.main);
    assert.deepEqual(merged.relations, [{ r: "public.leaked:r" }, ...before.relations]);
    assert.deepEqual(merged.migrations, [{ n: 1 }]);
  });

  test("a COMMIT-carrying row written straight into bough.migrations is refused at replay", async () => {
    const s = await setup();
    await withClient(s.branch, ensureBookkeeping);
    const sql = "CREATE TABLE leaked2 (x int);\nCOMMIT;\nCREATE TABLE leaked3 (x int);";
    await query(
      s.branch,
      "INSERT INTO bough.migrations (name, checksum, sql) VALUES ($1, $2, $3)",
      ["evil.sql", checksumOf(sql), sql],
    );
    const before = await parentState(s.main);
    const refusal = refusedWith(
      "MIGRATION_REFUSED",
      /migration "evil\.sql" controls the transaction itself at line 2: COMMIT/,
    );
    await assert.rejects(diffBranch(t.ctx, { project: s.project, name: "b" }), refusal);
    await assert.rejects(
      mergeBranch(t.ctx, { project: s.project, name: "b", dryRun: true }),
      refusal,
    );
    await assert.rejects(mergeBranch(t.ctx, { project: s.project, name: "b" }), refusal);
    assert.deepEqual(await parentState(s.main), before);
    const cli = await bough(t.home, ["--project", s.project, "-y", "branch", "merge", "b"]);
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /migration "evil\.sql" controls the transaction itself at line 2/);
    assert.match(cli.stderr, /one plain BEGIN; … COMMIT; around the whole file is accepted/);
    assert.deepEqual(await parentState(s.main), before);
  });

  test("migrate apply refuses transaction control and CONCURRENTLY, keeping nothing", async () => {
    const s = await setup();
    const cases: [string, string, RegExp][] = [
      ["a.sql", "CREATE TABLE a (x int);\nCOMMIT;\nCREATE TABLE a2 (x int);", /line 2: COMMIT/],
      ["b.sql", "BEGIN;\nCREATE TABLE a (x int);\nCOMMIT;\nSELECT 1;", /not a plain BEGIN/],
      ["c.sql", "SAVEPOINT x; CREATE TABLE a (x int);", /line 1: SAVEPOINT x/],
      ["d.sql", "CREATE INDEX CONCURRENTLY t_v ON t (v);", /CREATE INDEX CONCURRENTLY/],
      ["e.sql", "BEGIN; VACUUM t; COMMIT;", /VACUUM, which cannot run inside a transaction/],
    ];
    for (const [name, sql, pattern] of cases) {
      const file = await migrationFile(name, sql);
      await assert.rejects(
        migrateApply(t.ctx, { project: s.project, branch: "b", file }),
        refusedWith("MIGRATION_REFUSED", pattern),
      );
    }
    assert.deepEqual(
      await rows(
        s.branch,
        "SELECT to_regclass('public.a') IS NULL AS none, (SELECT count(*)::int FROM bough.migrations) AS recorded",
      ),
      [{ none: true, recorded: 0 }],
    );
    const cli = await bough(t.home, [
      "--project",
      s.project,
      "migrate",
      "apply",
      join(t.home, "d.sql"),
      "--branch",
      "b",
    ]);
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /write CREATE INDEX without CONCURRENTLY/);
  });

  test("apply is all or nothing even when a migration carries COMMIT", async () => {
    const s = await setup();
    const failing = {
      sql: "ALTER TABLE missing ADD COLUMN y int",
      objectId: "table:public.missing",
    };
    // a wrapped migration: runs, then a failing statement rolls everything back
    const wrapped = "BEGIN; CREATE TABLE m1 (x int); COMMIT;";
    await assert.rejects(
      withClient(s.main, async (c) => {
        await ensureBookkeeping(c);
        return applyInTransaction(c, {
          migrations: [{ name: "m1.sql", checksum: checksumOf(wrapped), sql: wrapped }],
          statements: [failing],
          expectedHash: null,
          lockTimeoutMs: 1000,
        });
      }),
      refusedWith("MERGE_FAILED", /relation "missing" does not exist/),
    );
    // a COMMIT in the middle (only writable straight into bough.migrations) is refused
    const inner = "CREATE TABLE m2 (x int); COMMIT; CREATE TABLE m3 (x int);";
    await assert.rejects(
      withClient(s.main, (c) =>
        applyInTransaction(c, {
          migrations: [{ name: "m2.sql", checksum: checksumOf(inner), sql: inner }],
          statements: [],
          expectedHash: null,
          lockTimeoutMs: 1000,
        }),
      ),
      refusedWith("MIGRATION_REFUSED", /m2\.sql/),
    );
    assert.deepEqual(
      await rows(
        s.main,
        "SELECT count(*)::int AS n FROM pg_class WHERE relname IN ('m1', 'm2', 'm3')",
      ),
      [{ n: 0 }],
    );
    assert.deepEqual(await rows(s.main, "SELECT count(*)::int AS n FROM bough.migrations"), [
      { n: 0 },
    ]);
  });

  test("the confirmation is asked without the lock held, and a changed re-plan is asked again", async () => {
    const s = await setup();
    await query(s.branch, "CREATE TABLE n (x int); ALTER TABLE t ADD COLUMN w int");
    const asked: { again: boolean; preview: string }[] = [];
    const r = await mergeBranch(t.ctx, {
      project: s.project,
      name: "b",
      confirm: async (preview, o) => {
        asked.push({ again: o?.again ?? false, preview });
        if (asked.length > 1) return;
        // another bough process works on the home meanwhile (it would fail BUSY if the lock were held)
        const other = await bough(
          t.home,
          ["--json", "--project", s.project, "migrate", "list", "--branch", "main"],
          { env: { BOUGH_LOCK_TIMEOUT_MS: "2000" } },
        );
        assert.equal(other.code, 0, other.stderr);
        // and the parent gets the same table: the plan changes
        await query(s.main, "CREATE TABLE n (x int)");
      },
    });
    assert.equal(r.merged, true, r.preview);
    assert.deepEqual(
      asked.map((a) => a.again),
      [false, true],
    );
    assert.match(asked[0].preview, /CREATE TABLE "public"\."n"/);
    assert.doesNotMatch(asked[1].preview, /CREATE TABLE "public"\."n"/);
    assert.match(asked[1].preview, /ADD COLUMN "w"/);
    assert.deepEqual(
      await rows(
        s.main,
        "SELECT column_name FROM information_schema.columns WHERE table_name = 't' ORDER BY 1",
      ),
      [{ column_name: "id" }, { column_name: "v" }, { column_name: "w" }],
    );
  });

  test("without a confirm callback (-y) a re-plan that differs is refused", async () => {
    const s = await setup();
    // the migration's sleep keeps the rehearsal running long enough to move the parent
    const file = await migrationFile("slow.sql", "SELECT pg_sleep(1.5);");
    await migrateApply(t.ctx, { project: s.project, branch: "b", file });
    await query(s.branch, "CREATE TABLE n (x int); ALTER TABLE t ADD COLUMN w int");
    const merging = mergeBranch(t.ctx, { project: s.project, name: "b" });
    const outcome = merging.then(
      () => null,
      (err: BoughError) => err,
    );
    // once the rehearsal clone runs, a change on the parent is seen only by the apply
    const scratch = t.ctx.paths.scratchDir(requireProject(t.ctx, s.project));
    const rehearsing = () =>
      existsSync(scratch) &&
      readdirSync(scratch).some(
        (d) => d.startsWith("merge-") && existsSync(join(scratch, d, "postmaster.pid")),
      );
    for (let i = 0; i < 600 && !rehearsing(); i++) await sleep(20);
    assert.ok(rehearsing(), "the rehearsal started");
    await query(s.main, "CREATE TABLE n (x int)");
    const err = await outcome;
    assert.ok(err, "the merge is refused");
    assert.equal(err.code, "MERGE_FAILED");
    assert.match(err.message, /parent moved, plan changed: review again/);
    assert.deepEqual(
      await rows(
        s.main,
        "SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 't' AND column_name = 'w'",
      ),
      [{ n: 0 }],
    );
    assert.ok(scratchEmpty(s.project));
  });
});

describe("crashes around the parent's COMMIT and the replay clone", () => {
  let t: TestHome;
  before(async () => {
    t = await testHome();
  });
  after(() => t.dispose());

  test("killed right after the parent's COMMIT: recovery finishes the merge", async () => {
    const main = await t.project("k");
    await query(main, "CREATE TABLE t (id int PRIMARY KEY)");
    const branch = await t.branch("k", "m");
    await query(branch, "ALTER TABLE t ADD COLUMN extra int");
    const file = join(t.home, "k1.sql");
    await writeFile(file, "BEGIN;\nINSERT INTO t VALUES (7);\nCOMMIT;\n");
    await migrateApply(t.ctx, { project: "k", branch: "m", file });
    const killed = await bough(t.home, ["--project", "k", "-y", "branch", "merge", "m"], {
      env: { BOUGH_FAULT: "merge:after-commit" },
    });
    assert.equal(killed.code, 137, killed.stderr);
    const list = await bough(t.home, ["--project", "k", "--json", "branch", "list"]);
    assert.equal(list.code, 0, list.stderr);
    const m = (
      JSON.parse(list.stdout) as { name: string; state: string; lastError: string | null }[]
    ).find((b) => b.name === "m");
    assert.equal(m?.state, "merged");
    assert.equal(m?.lastError, null, "not reported as interrupted with the parent unchanged");
    assert.deepEqual(
      await rows(
        main,
        "SELECT column_name FROM information_schema.columns WHERE table_name = 't' ORDER BY 1",
      ),
      [{ column_name: "extra" }, { column_name: "id" }],
    );
    assert.deepEqual(await rows(main, "SELECT id FROM t"), [{ id: 7 }]);
    assert.deepEqual(await rows(main, "SELECT name FROM bough.migrations"), [{ name: "k1.sql" }]);
    const ops = t.ctx.db
      .prepare("SELECT kind, status FROM operations WHERE kind = 'branch-merge'")
      .all();
    assert.deepEqual(ops, [{ kind: "branch-merge", status: "done" }]);
    // the merge base moved: merging again is a no-op
    const again = await mergeBranch(t.ctx, { project: "k", name: "m" });
    assert.equal(again.merged, true);
    assert.deepEqual(again.statements, []);
    assert.deepEqual(again.migrations, []);
    assert.deepEqual(again.changes, []);
  });

  test("a replay clone left by a killed diff is stopped and removed", async () => {
    const main = await t.project("r");
    await query(main, "CREATE TABLE t (id int PRIMARY KEY)");
    await t.branch("r", "b");
    const file = join(t.home, "r1.sql");
    await writeFile(file, "CREATE TABLE r1 (x int);");
    await migrateApply(t.ctx, { project: "r", branch: "b", file });
    const killed = await bough(t.home, ["--project", "r", "branch", "diff", "b"], {
      env: { BOUGH_FAULT: "scratch:after-start" },
    });
    assert.equal(killed.code, 137, killed.stderr);
    const scratch = t.ctx.paths.scratchDir(requireProject(t.ctx, "r"));
    assert.equal(readdirSync(scratch).length, 2, "the clone and its log are left behind");
    const list = await bough(t.home, ["--project", "r", "branch", "list"]);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(readdirSync(scratch), []);
    assert.deepEqual(
      t.ctx.db
        .prepare(
          "SELECT o.status FROM operations o JOIN projects p ON p.id = o.project_id WHERE o.kind = 'scratch-clone' AND p.name = 'r'",
        )
        .all(),
      [{ status: "rolled-back" }],
    );
  });
});
