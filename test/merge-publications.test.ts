import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { withClient } from "../src/branches/sql.ts";
import { introspect } from "../src/merge/introspect/index.ts";
import { bough } from "./helpers/cli.ts";
import { assertMergedSchema } from "./helpers/merged-schema.ts";
import { type TestHome, testHome } from "./helpers/project.ts";
import { query, rows } from "./helpers/sql.ts";

const snap = (url: string) => withClient(url, introspect);

/** The tables of a publication, as Realtime reads them. */
async function published(url: string, pub = "supabase_realtime"): Promise<string[]> {
  const r = await rows<{ t: string }>(
    url,
    "SELECT schemaname || '.' || tablename AS t FROM pg_publication_tables WHERE pubname = $1 ORDER BY 1",
    [pub],
  );
  return r.map((x) => x.t);
}

describe("publications merge (Realtime's enabled tables are merged config)", () => {
  let t: TestHome;
  let n = 0;
  async function setup(sql: string) {
    const project = `pub${++n}`;
    const main = await t.project(project);
    await query(main, sql);
    const branch = await t.branch(project, "b");
    return { project, main, branch, base: await snap(main) };
  }
  const merge = (project: string, ...args: string[]) =>
    bough(t.home, ["--project", project, "branch", "merge", "b", ...args]);

  before(async () => {
    t = await testHome();
  });
  after(() => t.dispose());

  test("a table enabled on the branch: shown by --dry-run, enabled on main by the merge", async () => {
    const s = await setup("CREATE TABLE items (id int PRIMARY KEY, label text)");
    await query(s.branch, "ALTER PUBLICATION supabase_realtime ADD TABLE public.items");
    const dry = await merge(s.project, "--dry-run");
    assert.equal(dry.code, 0, dry.stderr + dry.stdout);
    assert.match(dry.stdout, /ALTER PUBLICATION "supabase_realtime" ADD TABLE "public"\."items";/);
    assert.deepEqual(await published(s.main), []);
    const parentBefore = await snap(s.main);
    const done = await merge(s.project, "-y");
    assert.equal(done.code, 0, done.stderr + done.stdout);
    assert.deepEqual(await published(s.main), ["public.items"]);
    await assertMergedSchema({ ...s, parentBefore });
  });

  test("both sides enable different tables: both are enabled", async () => {
    const s = await setup(
      "CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (id int PRIMARY KEY)",
    );
    await query(s.main, "ALTER PUBLICATION supabase_realtime ADD TABLE a");
    await query(s.branch, "ALTER PUBLICATION supabase_realtime ADD TABLE b");
    const parentBefore = await snap(s.main);
    const done = await merge(s.project, "-y");
    assert.equal(done.code, 0, done.stderr + done.stdout);
    assert.deepEqual(await published(s.main), ["public.a", "public.b"]);
    await assertMergedSchema({ ...s, parentBefore });
  });

  test("a new publication (publish insert, a column list, a row filter) arrives identical", async () => {
    const s = await setup("CREATE TABLE items (id int PRIMARY KEY, label text, qty int)");
    await query(
      s.branch,
      `CREATE PUBLICATION "Feed" WITH (publish = 'insert', publish_via_partition_root = true);
       ALTER PUBLICATION "Feed" ADD TABLE items (id, label) WHERE (qty > 0);
       CREATE TABLE fresh (id int PRIMARY KEY);
       ALTER PUBLICATION supabase_realtime ADD TABLE fresh`,
    );
    const dry = await merge(s.project, "--dry-run");
    assert.match(
      dry.stdout,
      /CREATE PUBLICATION "Feed" WITH \(publish = 'insert', publish_via_partition_root = true\);/,
    );
    const parentBefore = await snap(s.main);
    const done = await merge(s.project, "-y");
    assert.equal(done.code, 0, done.stderr + done.stdout);
    const spec = `SELECT p.pubinsert, p.pubupdate, p.pubdelete, p.pubtruncate, p.pubviaroot, pt.attnames::text, pt.rowfilter
                    FROM pg_publication p JOIN pg_publication_tables pt ON pt.pubname = p.pubname
                   WHERE p.pubname = 'Feed'`;
    assert.deepEqual(await rows(s.main, spec), await rows(s.branch, spec));
    assert.deepEqual(await rows(s.main, spec), [
      {
        pubinsert: true,
        pubupdate: false,
        pubdelete: false,
        pubtruncate: false,
        pubviaroot: true,
        attnames: "{id,label}",
        rowfilter: "(qty > 0)",
      },
    ]);
    assert.deepEqual(await published(s.main), ["public.fresh"]);
    await assertMergedSchema({ ...s, parentBefore });
  });

  test("the parent disabled a table the branch left alone: it stays disabled", async () => {
    const s = await setup(
      "CREATE TABLE items (id int PRIMARY KEY); ALTER PUBLICATION supabase_realtime ADD TABLE items",
    );
    await query(s.main, "ALTER PUBLICATION supabase_realtime DROP TABLE items");
    await query(s.branch, "CREATE TABLE other (id int)");
    const parentBefore = await snap(s.main);
    const done = await merge(s.project, "-y");
    assert.equal(done.code, 0, done.stderr + done.stdout);
    assert.deepEqual(await published(s.main), []);
    await assertMergedSchema({ ...s, parentBefore });
  });

  test("publish actions changed on the branch, an enabled table dropped there: both merge", async () => {
    const s = await setup(
      `CREATE TABLE items (id int PRIMARY KEY); CREATE TABLE gone (id int PRIMARY KEY);
       ALTER PUBLICATION supabase_realtime ADD TABLE items, gone`,
    );
    await query(
      s.branch,
      "ALTER PUBLICATION supabase_realtime SET (publish = 'insert, delete'); DROP TABLE gone",
    );
    const dry = await merge(s.project, "--dry-run");
    // The table leaves the publication by being dropped: no statement of its own.
    assert.equal(dry.stdout.match(/DROP TABLE "public"\."gone"/gu)?.length, 1, dry.stdout);
    assert.doesNotMatch(dry.stdout, /supabase_realtime" DROP TABLE/);
    const parentBefore = await snap(s.main);
    // Dropping a table deletes its rows: under -y that needs its own yes.
    const done = await merge(s.project, "-y", "--accept-data-loss");
    assert.equal(done.code, 0, done.stderr + done.stdout);
    assert.deepEqual(await published(s.main), ["public.items"]);
    assert.deepEqual(
      await rows(
        s.main,
        "SELECT pubinsert, pubupdate, pubdelete FROM pg_publication WHERE pubname = 'supabase_realtime'",
      ),
      [{ pubinsert: true, pubupdate: false, pubdelete: true }],
    );
    await assertMergedSchema({ ...s, parentBefore });
  });

  test("a table enabled on the branch that the parent dropped: a conflict, main untouched", async () => {
    const s = await setup("CREATE TABLE items (id int PRIMARY KEY)");
    await query(s.main, "DROP TABLE items");
    await query(s.branch, "ALTER PUBLICATION supabase_realtime ADD TABLE items");
    const done = await merge(s.project, "-y");
    assert.equal(done.code, 2, done.stderr + done.stdout);
    assert.match(done.stdout, /MERGE BLOCKED/);
    assert.match(
      done.stdout,
      /publication_table:supabase_realtime:public\.items|table:public\.items/,
    );
  });
});
