import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { mergeBranch } from "../src/branches/merge.ts";
import { EXIT } from "../src/interfaces/cli/output.ts";
import { bough } from "./helpers/cli.ts";
import { type TestHome, testHome } from "./helpers/project.ts";
import { query, rows } from "./helpers/sql.ts";

const P = "ren";

/** One home and project for every case; each case works on tables of its own. */
describe("merge: --rename hints, the rename detector, carried USING, FK pairs", () => {
  let t: TestHome;
  let main: string;
  const cli = (...args: string[]) => bough(t.home, ["--project", P, ...args]);

  before(async () => {
    t = await testHome();
    main = await t.project(P);
    await query(
      main,
      `CREATE TABLE a (id int PRIMARY KEY, x text);
       CREATE VIEW v AS SELECT x FROM a;
       INSERT INTO a VALUES (1, 'kept');
       CREATE TABLE items (id int PRIMARY KEY, sku text);
       INSERT INTO items VALUES (1, 'S-1');
       CREATE TABLE ev (id int PRIMARY KEY, at int, n int);
       INSERT INTO ev VALUES (1, 1700000000, 1);
       CREATE TABLE u (id int PRIMARY KEY);
       CREATE TABLE o (id int PRIMARY KEY, uid int REFERENCES u(id));
       INSERT INTO u VALUES (7); INSERT INTO o VALUES (1, 7);`,
    );
  });
  after(() => t.dispose());

  test("a drop + create is flagged as a rename with its flag; -y refuses it without --accept-data-loss; --rename keeps the rows", async () => {
    const b = await t.branch(P, "r1");
    await query(
      b,
      `DROP TABLE a CASCADE; CREATE TABLE b (id int PRIMARY KEY, x text); CREATE VIEW v AS SELECT x FROM b;
       ALTER TABLE items DROP COLUMN sku; ALTER TABLE items ADD COLUMN code text;`,
    );
    const dry = await cli("branch", "merge", "r1", "--dry-run");
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /LOOKS LIKE A RENAME/);
    assert.match(dry.stdout, /--rename table:public\.a=public\.b/);
    assert.match(dry.stdout, /--rename column:public\.items\.sku=code/);
    const refused = await cli("branch", "merge", "r1", "-y");
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /deletes data[\s\S]*--rename table:public\.a=public\.b/);
    const diff = await cli("--json", "branch", "diff", "r1", "--rename", "table:public.a=public.b");
    assert.equal(diff.code, 0, diff.stderr);
    const d = JSON.parse(diff.stdout) as { renameSuggestions: { flag: string }[] };
    assert.deepEqual(
      d.renameSuggestions.map((s) => s.flag),
      ["--rename column:public.items.sku=code"],
    );
    const bad = await cli("branch", "merge", "r1", "--rename", "table:public.nope=public.b", "-y");
    assert.equal(bad.code, EXIT.usage, bad.stderr);
    assert.match(bad.stderr, /"main" has no table:public\.nope/);
    const done = await cli(
      "--json",
      "branch",
      "merge",
      "r1",
      "-y",
      "--rename",
      "table:public.a=public.b",
      "--rename",
      "column:public.items.sku=code",
    );
    assert.equal(done.code, 0, done.stderr + done.stdout);
    const r = JSON.parse(done.stdout) as {
      merged: boolean;
      renames: string[];
      statements: { sql: string }[];
    };
    assert.equal(r.merged, true);
    assert.deepEqual(r.renames, ["table:public.a=public.b", "column:public.items.sku=code"]);
    assert.ok(
      !r.statements.some((s) => /DROP TABLE|DROP COLUMN/.test(s.sql)),
      JSON.stringify(r.statements),
    );
    assert.deepEqual(await rows(main, "SELECT id, x FROM b"), [{ id: 1, x: "kept" }]);
    assert.deepEqual(await rows(main, "SELECT x FROM v"), [{ x: "kept" }]);
    assert.deepEqual(await rows(main, "SELECT code FROM items"), [{ code: "S-1" }]);
  });

  test("a type change with no cast carries the branch's own USING; without one it blocks and names the USING to add", async () => {
    const b = await t.branch(P, "r2");
    await query(b, "ALTER TABLE ev ALTER COLUMN at TYPE timestamptz USING to_timestamp(at)");
    // Changed in a DO block: the DDL log holds the block, not an ALTER TABLE with a USING.
    await query(
      b,
      "DO $$ BEGIN EXECUTE 'ALTER TABLE ev ALTER COLUMN n TYPE timestamptz USING to_timestamp(n)'; END $$",
    );
    const blocked = await mergeBranch(t.ctx, { project: P, name: "r2", dryRun: true });
    assert.equal(blocked.blocked, true);
    assert.deepEqual(
      blocked.conversionsMissing.map((c) => c.column),
      ["column:public.ev.n"],
    );
    assert.match(
      blocked.preview,
      /MERGE BLOCKED: 1 column type change\(s\) need a USING[\s\S]*ALTER TABLE "public"\."ev" ALTER COLUMN "n" TYPE timestamp with time zone USING <expression of "n">/,
    );
    assert.match(blocked.preview, /USING \(to_timestamp\(at\)\)/);
    const refused = await cli("branch", "merge", "r2", "-y");
    assert.equal(refused.code, EXIT.conflict, refused.stderr);
    assert.match(refused.stderr, /need a USING expression/);
    assert.equal((await rows<{ n: number }>(main, "SELECT n FROM ev"))[0].n, 1, "nothing ran");
    // Undo the direct change and record it as a migration: it is replayed verbatim.
    await query(b, "ALTER TABLE ev ALTER COLUMN n TYPE int USING 1");
    const file = join(await mkdtemp(join(tmpdir(), "ren-")), "001_n.sql");
    await writeFile(file, "ALTER TABLE ev ALTER COLUMN n TYPE timestamptz USING to_timestamp(n)");
    const m = await cli("migrate", "apply", file, "--branch", "r2");
    assert.equal(m.code, 0, m.stderr);
    const r = await mergeBranch(t.ctx, { project: P, name: "r2" });
    assert.equal(r.merged, true, r.preview);
    const [row] = await rows<{ at: Date; n: Date }>(main, "SELECT at, n FROM ev");
    assert.equal(row.at.toISOString(), "2023-11-14T22:13:20.000Z");
    assert.equal(row.n.toISOString(), "1970-01-01T00:00:01.000Z");
  });

  test("both ends of a foreign key changing type are changed together around the key", async () => {
    const b = await t.branch(P, "r3");
    await query(
      b,
      `ALTER TABLE o DROP CONSTRAINT o_uid_fkey; ALTER TABLE u ALTER COLUMN id TYPE text;
       ALTER TABLE o ALTER COLUMN uid TYPE text; ALTER TABLE o ADD FOREIGN KEY (uid) REFERENCES u(id)`,
    );
    const r = await mergeBranch(t.ctx, { project: P, name: "r3" });
    assert.equal(r.merged, true, r.preview);
    assert.match(
      r.preview,
      /DROP CONSTRAINT "o_uid_fkey"[\s\S]*TYPE text[\s\S]*TYPE text[\s\S]*ADD CONSTRAINT "o_uid_fkey"/,
    );
    assert.deepEqual(await rows(main, "SELECT uid FROM o"), [{ uid: "7" }]);
  });
});
