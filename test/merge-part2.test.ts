import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { EXIT } from "../src/interfaces/cli/output.ts";
import { bough } from "./helpers/cli.ts";
import { type TestHome, testHome } from "./helpers/project.ts";
import { query, rows } from "./helpers/sql.ts";

const P = "res";
const TOTAL = "column:public.orders.total";
const NOTE = "column:public.orders.note";

const columnType = async (url: string, column: string) =>
  (
    await rows<{ t: string }>(
      url,
      "SELECT format_type(atttypid, atttypmod) AS t FROM pg_attribute WHERE attrelid = 'public.orders'::regclass AND attname = $1",
      [column],
    )
  )[0]?.t;
const noteDefault = async (url: string) =>
  (
    await rows<{ d: string | null }>(
      url,
      "SELECT pg_get_expr(adbin, adrelid) AS d FROM pg_attrdef WHERE adrelid = 'public.orders'::regclass AND adnum = 3",
    )
  )[0]?.d ?? null;

describe("merge, part 2: --take, branch resolve, --accept-data-loss, rebase, --into", () => {
  let t: TestHome;
  let main: string;
  const cli = (...args: string[]) => bough(t.home, ["--project", P, ...args]);

  before(async () => {
    t = await testHome();
    main = await t.project(P);
    await query(main, "CREATE TABLE orders (id int PRIMARY KEY, total int, note text)");
  });
  after(() => t.dispose());

  test("--take branch ID applies the branch's version of a conflicting column; bad ids and sides are refused", async () => {
    const b = await t.branch(P, "take1");
    await query(main, "ALTER TABLE orders ALTER COLUMN total TYPE bigint");
    await query(b, "ALTER TABLE orders ALTER COLUMN total TYPE numeric");
    const blocked = await cli("--json", "branch", "merge", "take1", "-y");
    assert.equal(blocked.code, EXIT.conflict, blocked.stderr);
    assert.match(blocked.stdout + blocked.stderr, new RegExp(TOTAL));
    const unknown = await cli(
      "branch",
      "merge",
      "take1",
      "--take",
      "branch",
      "column:public.nope.x",
      "-y",
    );
    assert.equal(unknown.code, EXIT.usage, unknown.stderr);
    assert.match(unknown.stderr, /not a conflict of this merge[\s\S]*column:public\.orders\.total/);
    const side = await cli("branch", "merge", "take1", "--take-all", "sideways", "-y");
    assert.equal(side.code, EXIT.usage, side.stderr);
    assert.match(side.stderr, /--take-all takes branch or parent/);
    const dry = await cli("branch", "merge", "take1", "--take", "branch", TOTAL, "--dry-run");
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /\[RESOLVED\] 1 conflict\(s\)[\s\S]*took branch \(--take\)/);
    assert.match(dry.stdout, /ALTER COLUMN "total" (SET DATA )?TYPE numeric/);
    assert.equal(await columnType(main, "total"), "bigint", "a dry run changes nothing");
    const done = await cli("--json", "branch", "merge", "take1", "--take", "branch", TOTAL, "-y");
    assert.equal(done.code, 0, done.stderr + done.stdout);
    const r = JSON.parse(done.stdout) as {
      merged: boolean;
      resolved: { id: string; take: string }[];
    };
    assert.equal(r.merged, true);
    assert.deepEqual(
      r.resolved.map((x) => `${x.id} ${x.take}`),
      [`${TOTAL} branch`],
    );
    assert.equal(await columnType(main, "total"), "numeric");
  });

  test("a decision recorded with `branch resolve` is used by the next merge, and dropped when its conflict changes", async () => {
    const keep = await t.branch(P, "rec1");
    const stale = await t.branch(P, "rec2");
    await query(main, "ALTER TABLE orders ALTER COLUMN note SET DEFAULT 'main'");
    await query(keep, "ALTER TABLE orders ALTER COLUMN note SET DEFAULT 'keep'");
    await query(stale, "ALTER TABLE orders ALTER COLUMN note SET DEFAULT 'stale'");
    const wrong = await cli(
      "branch",
      "resolve",
      "rec1",
      "column:public.nope.x",
      "--take",
      "parent",
    );
    assert.equal(wrong.code, EXIT.usage, wrong.stderr);
    const rec = await cli("--json", "branch", "resolve", "rec1", NOTE, "--take", "parent");
    assert.equal(rec.code, 0, rec.stderr);
    assert.deepEqual(JSON.parse(rec.stdout).remaining, []);
    const listed = await cli("--json", "branch", "resolve", "rec1", "--list");
    assert.deepEqual(
      (JSON.parse(listed.stdout) as { conflictId: string; take: string }[]).map(
        (x) => `${x.conflictId} ${x.take}`,
      ),
      [`${NOTE} parent`],
    );
    const dry = await cli("branch", "merge", "rec1", "--dry-run");
    assert.match(
      dry.stdout,
      /took parent \(recorded with `bough branch resolve`\): the parent keeps its version/,
    );
    const done = await cli("branch", "merge", "rec1", "-y");
    assert.equal(done.code, 0, done.stderr + done.stdout);
    assert.equal(await noteDefault(main), "'main'::text", "the parent's side was taken");
    const after = await cli("--json", "branch", "resolve", "rec1", "--list");
    assert.deepEqual(JSON.parse(after.stdout), [], "a landed merge forgets its decisions");

    // rec2: decided, then the branch changes the default again: the old decision is not applied.
    assert.equal((await cli("branch", "resolve", "rec2", NOTE, "--take", "branch")).code, 0);
    await query(stale, "ALTER TABLE orders ALTER COLUMN note SET DEFAULT 'stale again'");
    const blocked = await cli("branch", "merge", "rec2", "-y");
    assert.equal(blocked.code, EXIT.conflict, blocked.stderr + blocked.stdout);
    const preview = await cli("branch", "merge", "rec2", "--dry-run");
    assert.match(
      preview.stdout,
      /recorded resolution for column:public\.orders\.note \(take branch\) no longer matches/,
    );
    const all = await cli("branch", "merge", "rec2", "--take-all", "branch", "-y");
    assert.equal(all.code, 0, all.stderr + all.stdout);
    assert.equal(await noteDefault(main), "'stale again'::text");
  });

  test("under -y a statement that deletes data needs --accept-data-loss; the parent is untouched until then", async () => {
    const b = await t.branch(P, "lossy");
    await query(main, "INSERT INTO orders (id, note) VALUES (1, 'keep me')");
    await query(b, "ALTER TABLE orders DROP COLUMN note");
    const refused = await cli("branch", "merge", "lossy", "-y");
    assert.equal(refused.code, EXIT.usage, refused.stderr + refused.stdout);
    assert.match(
      refused.stderr,
      /deletes data on main: column:public\.orders\.note[\s\S]*--accept-data-loss/,
    );
    assert.equal((await rows(main, "SELECT note FROM orders WHERE id = 1"))[0].note, "keep me");
    const done = await cli("branch", "merge", "lossy", "-y", "--accept-data-loss");
    assert.equal(done.code, 0, done.stderr + done.stdout);
    assert.equal(await columnType(main, "note"), undefined);
  });

  const tables = async (url: string) =>
    (
      await rows<{ t: string }>(
        url,
        "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
      )
    ).map((r) => r.t);

  test("rebase brings the parent's changes onto the branch, keeps its data and work; the next merge holds only that work", async () => {
    const b = await t.branch(P, "rb");
    await query(
      b,
      "ALTER TABLE orders ADD COLUMN gift boolean; INSERT INTO orders (id, gift) VALUES (7, true)",
    );
    await query(
      main,
      "CREATE TABLE extra (id int PRIMARY KEY); ALTER TABLE orders ADD COLUMN shipped date",
    );
    const dry = await cli("--json", "branch", "rebase", "rb", "--dry-run");
    assert.equal(dry.code, 0, dry.stderr);
    const plan = JSON.parse(dry.stdout) as { kind: string; statements: { objectId: string }[] };
    assert.equal(plan.kind, "rebase");
    const ids = new Set(plan.statements.map((st) => st.objectId));
    assert.ok(
      ids.has("column:public.orders.shipped") && ids.has("table:public.extra"),
      [...ids].join(),
    );
    assert.ok(![...ids].some((id) => id.includes("gift")), "the branch's own work is not replayed");
    assert.deepEqual(await tables(b), ["orders"], "a dry run changes nothing");
    const done = await cli("branch", "rebase", "rb", "-y");
    assert.equal(done.code, 0, done.stderr + done.stdout);
    assert.match(done.stdout, /rebased rb onto main/);
    assert.deepEqual(await tables(b), ["extra", "orders"]);
    assert.equal(await columnType(b, "shipped"), "date");
    assert.deepEqual(await rows(b, "SELECT id, gift FROM orders WHERE id = 7"), [
      { id: 7, gift: true },
    ]);
    const merge = await cli("--json", "branch", "merge", "rb", "--dry-run");
    const m = JSON.parse(merge.stdout) as {
      statements: { objectId: string }[];
      conflicts: unknown[];
    };
    assert.deepEqual(m.conflicts, []);
    assert.deepEqual(
      [...new Set(m.statements.map((st) => st.objectId))],
      ["column:public.orders.gift"],
    );
    assert.equal((await cli("branch", "merge", "rb", "-y")).code, 0);
    const again = await cli("--json", "branch", "merge", "rb", "--dry-run");
    assert.deepEqual(JSON.parse(again.stdout).statements, [], "a second merge is a no-op");
  });

  test("--into merges a branch into a sibling on their common base; the parent is untouched", async () => {
    const a = await t.branch(P, "sib-a");
    const b = await t.branch(P, "sib-b");
    await query(a, "CREATE TABLE from_a (id int PRIMARY KEY)");
    await query(b, "CREATE TABLE from_b (id int PRIMARY KEY)");
    const self = await cli("branch", "merge", "sib-a", "--into", "sib-a", "-y");
    assert.equal(self.code, EXIT.usage, self.stderr);
    const done = await cli("--json", "branch", "merge", "sib-a", "--into", "sib-b", "-y");
    assert.equal(done.code, 0, done.stderr + done.stdout);
    const r = JSON.parse(done.stdout) as { kind: string; into: string; merged: boolean };
    assert.deepEqual([r.kind, r.into, r.merged], ["into", "sib-b", true]);
    assert.ok((await tables(b)).includes("from_a") && (await tables(b)).includes("from_b"));
    assert.ok(!(await tables(main)).includes("from_a"), "main is not the target");
    // sib-a's own merge into main still carries its table.
    const toMain = await cli("--json", "branch", "merge", "sib-a", "--dry-run");
    assert.ok(
      (JSON.parse(toMain.stdout) as { statements: { objectId: string }[] }).statements.some(
        (st) => st.objectId === "table:public.from_a",
      ),
    );
  });
  test("under -y a migration that runs a program needs --accept-server-access", async () => {
    await t.branch(P, "outside");
    const file = join(t.home, "001_outside.sql");
    writeFileSync(
      file,
      "COPY (SELECT 1) TO PROGRAM 'cat >/dev/null';\nCREATE TABLE outside_ran (id int);\n",
    );
    const applied = await cli("migrate", "apply", file, "--branch", "outside");
    assert.equal(applied.code, 0, applied.stderr + applied.stdout);
    const refused = await cli("branch", "merge", "outside", "-y");
    assert.equal(refused.code, EXIT.usage, refused.stderr + refused.stdout);
    assert.match(refused.stderr, /reach outside the database[\s\S]*--accept-server-access/);
    assert.equal((await rows(main, "SELECT to_regclass('outside_ran') AS r"))[0].r, null);
    const done = await cli("branch", "merge", "outside", "-y", "--accept-server-access");
    assert.equal(done.code, 0, done.stderr + done.stdout);
    assert.equal((await rows(main, "SELECT to_regclass('outside_ran') AS r"))[0].r, "outside_ran");
  });
});
