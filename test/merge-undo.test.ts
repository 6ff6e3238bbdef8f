import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { MergeInfo } from "../src/branches/merges.ts";
import { createAdminKey } from "../src/control/admin-keys.ts";
import type { AuditEntry } from "../src/control/audit.ts";
import { buildApp } from "../src/interfaces/api/app.ts";
import { EXIT } from "../src/interfaces/cli/output.ts";
import { bough } from "./helpers/cli.ts";
import { type TestHome, testHome } from "./helpers/project.ts";
import { query, rows } from "./helpers/sql.ts";

const P = "und";

const columns = async (url: string, table: string) =>
  (
    await rows<{ c: string }>(
      url,
      "SELECT attname AS c FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
      [table],
    )
  ).map((r) => r.c);
const exists = async (url: string, table: string) =>
  (await rows<{ r: string | null }>(url, "SELECT to_regclass($1)::text AS r", [table]))[0].r !==
  null;

describe("merge undo: a merge reverted from the target's history, rows restored", () => {
  let t: TestHome;
  let main: string;
  const cli = (...args: string[]) => bough(t.home, ["--project", P, ...args]);
  const merges = async () => {
    const r = await cli("--json", "merges", "list");
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as MergeInfo[];
  };

  before(async () => {
    t = await testHome();
    main = await t.project(P);
    await query(
      main,
      `CREATE TABLE orders (id int PRIMARY KEY, total int);
       INSERT INTO orders VALUES (1, 10), (2, 20);
       CREATE TABLE legacy (id serial PRIMARY KEY, name text, order_id int REFERENCES orders);
       INSERT INTO legacy (name, order_id) VALUES ('a', 1), ('b', 2), ('c', NULL);`,
    );
  });
  after(() => t.dispose());

  test("a merge that adds a column and drops a table and a column with rows is listed, previewed, then undone with its rows back", async () => {
    const b = await t.branch(P, "feat");
    await query(
      b,
      "ALTER TABLE orders ADD COLUMN note text; DROP TABLE legacy; ALTER TABLE orders DROP COLUMN total",
    );
    const merged = await cli("branch", "merge", "feat", "-y", "--accept-data-loss");
    assert.equal(merged.code, 0, merged.stderr + merged.stdout);
    assert.equal(await exists(main, "public.legacy"), false);
    // Written on main after the merge: kept by the undo (it reverts schema, not later rows).
    await query(main, "INSERT INTO orders (id, note) VALUES (3, 'after')");

    const [m] = await merges();
    assert.equal(m.kind, "merge");
    assert.equal(m.branch, "feat");
    assert.equal(m.target, "main");
    assert.equal(m.undoable, true);
    assert.equal(m.undoneAt, null);
    assert.ok(m.statements >= 3, JSON.stringify(m));

    const dry = await cli("branch", "merge", "feat", "--undo", "--dry-run");
    assert.equal(dry.code, 0, dry.stderr + dry.stdout);
    assert.match(dry.stdout, new RegExp(`bough undo of merge ${m.id}: feat into main`));
    assert.match(dry.stdout, /DROP COLUMN "note"/);
    assert.match(dry.stdout, /CREATE TABLE "?public"?\."?legacy"?/);
    assert.match(dry.stdout, /\[RESTORE\][\s\S]*every row of table:public\.legacy/);
    assert.match(dry.stdout, /values by primary key of column:public\.orders\.total/);
    assert.deepEqual(
      await columns(main, "public.orders"),
      ["id", "note"],
      "a dry run writes nothing",
    );
    assert.equal(await exists(main, "public.legacy"), false);

    const refused = await cli("merges", "undo", String(m.id), "-y");
    assert.equal(refused.code, EXIT.usage, refused.stderr);
    assert.match(
      refused.stderr,
      /undo of merge \d+ deletes data on main: column:public\.orders\.note/,
    );

    const done = await cli("--json", "merges", "undo", String(m.id), "-y", "--accept-data-loss");
    assert.equal(done.code, 0, done.stderr + done.stdout);
    const r = JSON.parse(done.stdout) as {
      kind: string;
      merged: boolean;
      undo: { mergeId: number; restored: { objectId: string; rows: number }[] };
    };
    assert.equal(r.kind, "undo");
    assert.equal(r.merged, true);
    assert.deepEqual(r.undo.restored.map((x) => `${x.objectId} ${x.rows}`).sort(), [
      "column:public.orders.total 2",
      "table:public.legacy 3",
    ]);
    assert.deepEqual(await columns(main, "public.orders"), ["id", "total"]);
    assert.deepEqual(await rows(main, "SELECT id, total FROM orders ORDER BY id"), [
      { id: 1, total: 10 },
      { id: 2, total: 20 },
      { id: 3, total: null },
    ]);
    assert.deepEqual(await rows(main, "SELECT id, name, order_id FROM legacy ORDER BY id"), [
      { id: 1, name: "a", order_id: 1 },
      { id: 2, name: "b", order_id: 2 },
      { id: 3, name: "c", order_id: null },
    ]);
    // The serial goes on past the restored ids (recovery may skip ahead, as after a crash), and the foreign key is back.
    const [next] = await rows<{ id: number }>(
      main,
      "INSERT INTO legacy (name) VALUES ('d') RETURNING id",
    );
    assert.ok(next.id > 3, `${next.id}`);
    await assert.rejects(query(main, "INSERT INTO legacy (name, order_id) VALUES ('x', 99)"));

    const [again] = await merges();
    assert.equal(again.id, m.id);
    assert.ok(again.undoneAt);
    assert.equal(again.undoable, false);
    const twice = await cli("merges", "undo", String(m.id), "-y");
    assert.equal(twice.code, EXIT.usage, twice.stderr);
    assert.match(twice.stderr, /was undone at/);
    // The branch's work is not in main any more: its next merge carries it again.
    const redo = await cli("--json", "branch", "merge", "feat", "--dry-run");
    const plan = JSON.parse(redo.stdout) as { changes: { id: string }[] };
    assert.ok(
      plan.changes.some((c) => c.id === "column:public.orders.note"),
      redo.stdout,
    );
    const audit = JSON.parse((await cli("--json", "audit")).stdout) as AuditEntry[];
    assert.ok(audit.some((a) => a.action === "merge.undo" && a.result === "ok"));
  });

  test("undo is refused with a conflict, nothing applied, when the target changed an object the merge touched", async () => {
    const b = await t.branch(P, "feat2");
    await query(b, "ALTER TABLE orders ADD COLUMN extra int");
    // Killed right after its COMMIT: the next command finishes the merge, and keeps it for undo.
    const killed = await bough(t.home, ["--project", P, "branch", "merge", "feat2", "-y"], {
      env: { BOUGH_FAULT: "merge:after-commit" },
    });
    assert.equal(killed.code, 137, killed.stderr + killed.stdout);
    const [m] = await merges();
    assert.equal(m.branch, "feat2");
    await query(main, "ALTER TABLE orders ALTER COLUMN extra SET DEFAULT 5");
    const blocked = await cli("merges", "undo", String(m.id), "-y", "--accept-data-loss");
    assert.equal(blocked.code, EXIT.conflict, blocked.stderr + blocked.stdout);
    assert.match(blocked.stdout + blocked.stderr, /MERGE BLOCKED: 1 conflict/);
    assert.match(blocked.stdout + blocked.stderr, /column:public\.orders\.extra/);
    assert.match(
      blocked.stderr,
      new RegExp(`undo of merge ${m.id} \\(feat2 into main\\) is blocked`),
    );
    assert.ok((await columns(main, "public.orders")).includes("extra"), "nothing applied");
    assert.equal((await merges())[0].undoneAt, null);

    // The management API: the list, and the same conflicts as a 409 with the report.
    const { key } = createAdminKey(t.ctx.db, "undo-test");
    const app = buildApp(t.ctx);
    try {
      const call = (method: "GET" | "POST", url: string, body?: object) =>
        app.inject({ method, url, headers: { authorization: `Bearer ${key}` }, payload: body });
      const listed = await call("GET", `/v1/projects/${P}/merges`);
      assert.equal(listed.statusCode, 200, listed.body);
      assert.equal((listed.json() as MergeInfo[])[0].id, m.id);
      const conflict = await call("POST", `/v1/projects/${P}/merges/${m.id}/undo?wait=true`, {
        acceptDataLoss: true,
      });
      assert.equal(conflict.statusCode, 409, conflict.body);
      const err = conflict.json() as { code: string; details: { conflicts: { id: string }[] } };
      assert.equal(err.code, "MERGE_CONFLICT");
      assert.deepEqual(
        err.details.conflicts.map((c) => c.id),
        ["column:public.orders.extra"],
      );
      const missing = await call("POST", `/v1/projects/${P}/merges/999/undo`, { dryRun: true });
      assert.equal(missing.statusCode, 404, missing.body);
    } finally {
      await app.close();
    }

    // Past the history window the pre-merge state is gone: the error names the window.
    t.ctx.db
      .prepare("UPDATE merges SET applied_at = '2000-01-01T00:00:00.000Z' WHERE id = ?")
      .run(m.id);
    const expired = await cli("merges", "undo", String(m.id), "--dry-run");
    assert.equal(expired.code, EXIT.usage, expired.stderr);
    assert.match(expired.stderr, /outside the history window of "main" \(.*, kept 24 h\)/);
    assert.match(expired.stderr, /bough project set --history/);
    assert.equal((await merges())[0].undoable, false);
  });

  test("undoing a merge that replayed a migration forgets the migration, so the branch's next merge replays it again", async () => {
    await t.branch(P, "mig");
    const file = join(t.home, "001_widgets.sql");
    await writeFile(file, "CREATE TABLE widgets (id int PRIMARY KEY);");
    const applied = await cli("migrate", "apply", file, "--branch", "mig");
    assert.equal(applied.code, 0, applied.stderr);
    const merged = await cli("branch", "merge", "mig", "-y");
    assert.equal(merged.code, 0, merged.stderr + merged.stdout);
    assert.equal(await exists(main, "public.widgets"), true);
    const undone = await cli("branch", "merge", "mig", "--undo", "-y", "--accept-data-loss");
    assert.equal(undone.code, 0, undone.stderr + undone.stdout);
    assert.match(undone.stdout, /undid merge \d+ on main/);
    assert.equal(await exists(main, "public.widgets"), false);
    assert.deepEqual(
      await rows(main, "SELECT name FROM bough.migrations WHERE name LIKE '001%'"),
      [],
    );
    const redo = await cli("--json", "branch", "merge", "mig", "--dry-run");
    assert.deepEqual((JSON.parse(redo.stdout) as { migrations: string[] }).migrations, [
      "001_widgets.sql",
    ]);
    const none = await cli("branch", "merge", "mig", "--undo", "-y");
    assert.equal(none.code, 1, none.stderr);
    assert.match(none.stderr, /branch "mig" has no applied merge to undo/);
  });
});
