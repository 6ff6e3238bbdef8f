import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { diffBranch } from "../src/branches/diff.ts";
import { requireProject } from "../src/branches/lookup.ts";
import { mergeBranch } from "../src/branches/merge.ts";
import { migrateApply } from "../src/branches/migrate.ts";
import { resetBranch } from "../src/branches/reset.ts";
import { withClient } from "../src/branches/sql.ts";
import type { BoughError } from "../src/core/errors.ts";
import { comparableSnapshot } from "../src/merge/catalog/equality.ts";
import type { Snapshot } from "../src/merge/catalog/snapshot.ts";
import { introspect } from "../src/merge/introspect/index.ts";
import { bough } from "./helpers/cli.ts";
import { assertMergedSchema } from "./helpers/merged-schema.ts";
import { type TestHome, testHome } from "./helpers/project.ts";
import { query, rows } from "./helpers/sql.ts";

const snap = (url: string) => withClient(url, introspect);
const merge = (t: TestHome, project: string, name: string, dryRun = false) =>
  mergeBranch(t.ctx, { project, name, dryRun });

async function columns(url: string, table: string): Promise<string[]> {
  const r = await rows<{ c: string }>(
    url,
    "SELECT column_name || ' ' || data_type AS c FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 ORDER BY column_name",
    [table],
  );
  return r.map((x) => x.c);
}

describe("three-way merge on real clusters", () => {
  let t: TestHome;
  let n = 0;
  /** A fresh project per case: main with `sql` loaded, and a branch "b" of it. */
  async function setup(
    sql: string,
  ): Promise<{ project: string; main: string; branch: string; base: Snapshot }> {
    const project = `m${++n}`;
    const main = await t.project(project);
    await query(main, sql);
    const branch = await t.branch(project, "b");
    // The branch's T0: the parent as it was when the branch was made.
    return { project, main, branch, base: await snap(main) };
  }

  before(async () => {
    t = await testHome();
  });
  after(() => t.dispose());

  test("parent and branch change different columns of one table: both kept", async () => {
    const s = await setup("CREATE TABLE users (id int PRIMARY KEY, name text, age int)");
    await query(s.main, "ALTER TABLE users ADD COLUMN email text");
    await query(
      s.branch,
      "ALTER TABLE users ALTER COLUMN age TYPE bigint; ALTER TABLE users ADD COLUMN nick text",
    );
    const parentBefore = await snap(s.main);
    const r = await merge(t, s.project, "b");
    assert.equal(r.merged, true, r.preview);
    await assertMergedSchema({ ...s, parentBefore });
    assert.deepEqual(await columns(s.main, "users"), [
      "age bigint",
      "email text",
      "id integer",
      "name text",
      "nick text",
    ]);
  });

  test("both change the same column differently: blocked, parent untouched, report names it", async () => {
    const s = await setup("CREATE TABLE users (id int PRIMARY KEY, age int)");
    await query(s.main, "ALTER TABLE users ALTER COLUMN age TYPE numeric");
    await query(s.branch, "ALTER TABLE users ALTER COLUMN age TYPE bigint");
    const before = comparableSnapshot(await snap(s.main));
    const r = await merge(t, s.project, "b");
    assert.equal(r.blocked, true);
    assert.equal(r.merged, false);
    assert.ok(r.conflicts.some((c) => c.id === "column:public.users.age"));
    assert.match(r.preview, /^-- ⚠️ MERGE BLOCKED/);
    assert.match(r.preview, /column:public\.users\.age/);
    assert.match(r.preview, /numeric/);
    assert.match(r.preview, /bigint/);
    assert.equal(comparableSnapshot(await snap(s.main)), before);
    const cli = await bough(t.home, ["--project", s.project, "branch", "merge", "b", "-y"]);
    assert.equal(cli.code, 2, cli.stderr);
    assert.match(cli.stdout, /MERGE BLOCKED/);
    const show = await bough(t.home, ["--json", "--project", s.project, "branch", "show", "b"]);
    assert.equal(JSON.parse(show.stdout).state, "conflicted");
  });

  test("parent adds a column that the branch's new view does not use", async () => {
    const s = await setup("CREATE TABLE items (id int PRIMARY KEY, label text)");
    await query(s.main, "ALTER TABLE items ADD COLUMN price numeric");
    await query(s.branch, "CREATE VIEW item_labels AS SELECT id, label FROM items");
    const parentBefore = await snap(s.main);
    const r = await merge(t, s.project, "b");
    assert.equal(r.merged, true, r.preview);
    await assertMergedSchema({ ...s, parentBefore });
    assert.deepEqual(await rows(s.main, "SELECT count(*)::int AS n FROM item_labels"), [{ n: 0 }]);
    assert.deepEqual(await columns(s.main, "items"), ["id integer", "label text", "price numeric"]);
    assert.deepEqual(
      await rows(s.main, "SELECT pg_get_viewdef('public.item_labels'::regclass, true) AS def"),
      [{ def: " SELECT id,\n    label\n   FROM items;" }],
    );
  });

  test("branch adds a FK to a table the parent dropped: blocked", async () => {
    const s = await setup(
      "CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (id int PRIMARY KEY, a_id int)",
    );
    await query(s.main, "DROP TABLE a");
    await query(
      s.branch,
      "ALTER TABLE b ADD CONSTRAINT b_a_fk FOREIGN KEY (a_id) REFERENCES a (id)",
    );
    const r = await merge(t, s.project, "b");
    assert.equal(r.blocked, true, r.preview);
    assert.ok(
      r.conflicts.some((c) => c.id === "constraint:public.b.b_a_fk" || c.id.includes("public.a")),
    );
    assert.deepEqual(await rows(s.main, "SELECT to_regclass('public.a') IS NULL AS gone"), [
      { gone: true },
    ]);
  });

  test("identical change on both sides is a no-op", async () => {
    const s = await setup("CREATE TABLE t (id int PRIMARY KEY)");
    for (const url of [s.main, s.branch]) await query(url, "ALTER TABLE t ADD COLUMN note text");
    const parentBefore = await snap(s.main);
    const r = await merge(t, s.project, "b");
    assert.equal(r.blocked, false);
    assert.equal(r.statements.length, 0, r.preview);
    assert.equal(r.merged, true);
    await assertMergedSchema({ ...s, parentBefore });
    assert.deepEqual(await columns(s.main, "t"), ["id integer", "note text"]);
  });

  test("config rows upsert by key; secret columns are never merged nor shown", async () => {
    const s = await setup(`
      CREATE SCHEMA app;
      CREATE TABLE app.settings (key text PRIMARY KEY, value text, secret text);
      INSERT INTO app.settings VALUES ('theme', 'light', 's3cr3t-base'), ('lang', 'en', NULL);
      INSERT INTO bough.table_policies VALUES ('app.settings', 'upsert', '{key}', '{secret}');`);
    // the policy was set before the branch: reset the branch's base by re-creating it
    await query(
      s.branch,
      "UPDATE app.settings SET value = 'dark', secret = 'branch-secret' WHERE key = 'theme'",
    );
    await query(s.branch, "INSERT INTO app.settings VALUES ('tz', 'UTC', 'new-secret')");
    await query(s.main, "UPDATE app.settings SET value = 'fr' WHERE key = 'lang'");
    const dry = await merge(t, s.project, "b", true);
    assert.doesNotMatch(dry.preview, /branch-secret|new-secret|s3cr3t/);
    assert.match(dry.preview, /\[DATA\]/);
    const parentBefore = await snap(s.main);
    const r = await merge(t, s.project, "b");
    assert.equal(r.merged, true, r.preview);
    await assertMergedSchema({ ...s, parentBefore });
    assert.deepEqual(
      await rows(s.main, "SELECT key, value, secret FROM app.settings ORDER BY key"),
      [
        { key: "lang", value: "fr", secret: null },
        { key: "theme", value: "dark", secret: "s3cr3t-base" },
        { key: "tz", value: "UTC", secret: null },
      ],
    );
  });

  test("a config row changed differently on both sides is a conflict", async () => {
    const s = await setup(`
      CREATE TABLE flags (name text PRIMARY KEY, enabled boolean);
      INSERT INTO flags VALUES ('beta', false);
      INSERT INTO bough.table_policies VALUES ('public.flags', 'upsert', '{name}', '{}');`);
    await query(s.main, "UPDATE flags SET enabled = true");
    await query(s.branch, "UPDATE flags SET enabled = NULL");
    const r = await merge(t, s.project, "b");
    assert.equal(r.blocked, true);
    assert.ok(r.conflicts.some((c) => c.type === "row-conflict"));
  });

  test("recorded migrations replay first, then only what is left is diffed", async () => {
    const s = await setup(
      "CREATE TABLE people (id int PRIMARY KEY, fullname text); INSERT INTO people VALUES (1, 'Ada')",
    );
    const file = join(t.home, "001_rename.sql");
    await writeFile(file, "ALTER TABLE people RENAME COLUMN fullname TO display_name;");
    const applied = await migrateApply(t.ctx, { project: s.project, branch: "b", file });
    assert.equal(applied.applied, true);
    assert.equal(
      (await migrateApply(t.ctx, { project: s.project, branch: "b", file })).applied,
      false,
    );
    await query(s.branch, "CREATE INDEX people_name_idx ON people (display_name)");
    const d = await diffBranch(t.ctx, { project: s.project, name: "b" });
    assert.deepEqual(d.migrations, ["001_rename.sql"]);
    assert.ok(
      d.branchChanges.every((c) => !c.id.startsWith("column:")),
      "the rename is not a drop + add",
    );
    const parentBefore = await snap(s.main);
    const r = await merge(t, s.project, "b");
    assert.equal(r.merged, true, r.preview);
    await assertMergedSchema({ ...s, parentBefore });
    assert.deepEqual(await columns(s.main, "people"), ["display_name text", "id integer"]);
    assert.match(r.preview, /\[MIGRATION\][\s\S]*RENAME COLUMN fullname TO display_name/);
    assert.deepEqual(await rows(s.main, "SELECT display_name FROM people"), [
      { display_name: "Ada" },
    ]);
    assert.deepEqual(await rows(s.main, "SELECT name FROM bough.migrations"), [
      { name: "001_rename.sql" },
    ]);
    assert.deepEqual(
      await rows(s.main, "SELECT to_regclass('public.people_name_idx') IS NOT NULL AS ok"),
      [{ ok: true }],
    );
  });

  test("dry-run leaves both sides byte-identical and is deterministic", async () => {
    const s = await setup("CREATE TABLE t (id int PRIMARY KEY, v text)");
    await query(
      s.branch,
      "ALTER TABLE t ADD COLUMN w int NOT NULL DEFAULT 0; CREATE INDEX t_v ON t (v)",
    );
    const [m0, b0] = [await snap(s.main), await snap(s.branch)];
    const one = await merge(t, s.project, "b", true);
    const two = await merge(t, s.project, "b", true);
    assert.equal(one.preview, two.preview);
    assert.equal(one.dryRun, true);
    assert.ok(one.statements.length >= 2);
    assert.deepEqual(await snap(s.main), m0);
    assert.deepEqual(await snap(s.branch), b0);
    const file = join(t.home, "plan.sql");
    const cli = await bough(t.home, [
      "--project",
      s.project,
      "branch",
      "merge",
      "b",
      "--dry-run",
      "--save-sql",
      file,
    ]);
    assert.equal(cli.code, 0, cli.stderr);
    const { readFileSync } = await import("node:fs");
    assert.equal(readFileSync(file, "utf8"), one.preview);
    assert.match(one.preview, /\[DDL\]/);
    assert.match(one.preview, /ADD COLUMN/);
  });

  test("a statement failing on the parent leaves it unchanged and says why", async () => {
    const s = await setup(
      "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'x')",
    );
    await query(s.branch, "ALTER TABLE t ALTER COLUMN v SET NOT NULL");
    await query(s.main, "INSERT INTO t VALUES (2, NULL)");
    const before = comparableSnapshot(await snap(s.main));
    await assert.rejects(merge(t, s.project, "b"), (err: BoughError) => {
      assert.equal(err.code, "MERGE_FAILED");
      assert.match(err.message, /null values|NOT NULL/i);
      assert.match(err.message, /column:public\.t\.v|public\.t/);
      return true;
    });
    assert.equal(comparableSnapshot(await snap(s.main)), before);
    assert.deepEqual(await rows(s.main, "SELECT count(*)::int AS n FROM t"), [{ n: 2 }]);
    const scratch = t.ctx.paths.scratchDir(requireProject(t.ctx, s.project));
    assert.ok(!existsSync(scratch) || readdirSync(scratch).length === 0, "rehearsal clone removed");
  });

  test("after a merge only later changes merge; reset after merge makes merging a no-op", async () => {
    const s = await setup("CREATE TABLE t (id int PRIMARY KEY)");
    await query(s.branch, "ALTER TABLE t ADD COLUMN a int");
    assert.equal((await merge(t, s.project, "b")).merged, true);
    await assertMergedSchema({ ...s, parentBefore: s.base });
    assert.deepEqual(await columns(s.main, "t"), ["a integer", "id integer"]);
    const afterFirst = await snap(s.main);
    await query(s.branch, "ALTER TABLE t ADD COLUMN b int");
    const second = await merge(t, s.project, "b");
    assert.equal(second.merged, true, second.preview);
    await assertMergedSchema({ ...s, base: afterFirst, parentBefore: afterFirst });
    assert.ok(
      second.changes.every((c) => c.id !== "column:public.t.a"),
      "the first change is not applied twice",
    );
    assert.deepEqual(await columns(s.main, "t"), ["a integer", "b integer", "id integer"]);
    await resetBranch(t.ctx, { project: s.project, name: "b" });
    const beforeThird = await snap(s.main);
    const third = await merge(t, s.project, "b");
    assert.equal(third.merged, true, third.preview);
    assert.equal(third.statements.length, 0, third.preview);
    // Reset: the branch is T0 again and its base is T0, so a and b are the parent's own.
    await assertMergedSchema({ ...s, parentBefore: beforeThird });
    assert.deepEqual(await columns(s.main, "t"), ["a integer", "b integer", "id integer"]);
  });
});
