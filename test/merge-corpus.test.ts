import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { mergeBranch } from "../src/branches/merge.ts";
import { deleteProject } from "../src/branches/projects.ts";
import { withClient } from "../src/branches/sql.ts";
import { differingIds } from "../src/merge/catalog/equality.ts";
import { introspect } from "../src/merge/introspect/index.ts";
import { corpusCases, corpusFile, ensureCorpusRoles, loadSql } from "./helpers/corpus.ts";
import { assertMergedSchema } from "./helpers/merged-schema.ts";
import { type TestHome, testHome } from "./helpers/project.ts";
import { query } from "./helpers/sql.ts";

// Leaves only what initdb made (and bough's bookkeeping), so b.sql loads as into a new database.
const WIPE = `
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT evtname FROM pg_event_trigger LOOP
    EXECUTE format('DROP EVENT TRIGGER %I', r.evtname);
  END LOOP;
  FOR r IN SELECT extname FROM pg_extension WHERE extname <> 'plpgsql' LOOP
    EXECUTE format('DROP EXTENSION %I CASCADE', r.extname);
  END LOOP;
  FOR r IN SELECT nspname FROM pg_namespace
            WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'bough')
              AND nspname NOT LIKE 'pg\\_%' LOOP
    EXECUTE format('DROP SCHEMA %I CASCADE', r.nspname);
  END LOOP;
  CREATE SCHEMA public;
  GRANT USAGE ON SCHEMA public TO PUBLIC;
  ALTER SCHEMA public OWNER TO pg_database_owner;
END $$;`;

const FIXTURES = resolve(import.meta.dirname, "../src/merge/fixtures");
const dirsIn = (dir: string) =>
  existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
        .sort()
    : [];

/**
 * Convergence over the migra corpus: main holds a.sql, a branch rebuilds itself as
 * b.sql, the branch merges into main, and main must then equal the branch.
 */
describe("merge converges on the migra corpus", () => {
  let t: TestHome;
  const cases = corpusCases();

  before(async () => {
    t = await testHome();
  });
  after(() => t.dispose());

  test("the corpus is there", () => {
    const least = process.env.BOUGH_CORPUS === "all" ? 20 : 7;
    assert.ok(cases.length >= least, `expected the migra corpus, found ${cases.length} cases`);
  });

  let n = 0;
  /** main holds a.sql; the branch rebuilds itself as b.sql; merge; main must equal the branch. */
  async function converge(a: string, b: string): Promise<void> {
    const project = `c${++n}`;
    const main = await t.project(project);
    try {
      await ensureCorpusRoles(main);
      // Both sides start from the same empty database (a project's main also holds the
      // platform's schemas, grants and default privileges, which WIPE removes).
      await query(main, WIPE);
      await loadSql(main, a);
      const branch = await t.branch(project, "b");
      await query(branch, WIPE);
      await loadSql(branch, b);
      const report = await mergeBranch(t.ctx, { project, name: "b" });
      assert.equal(report.blocked, false, report.preview);
      const [m, br] = [await withClient(main, introspect), await withClient(branch, introspect)];
      assert.deepEqual(differingIds(m, br), [], report.preview);
    } finally {
      await deleteProject(t.ctx, { name: project });
    }
  }

  for (const name of cases) {
    test(name, () => converge(corpusFile(name, "a.sql"), corpusFile(name, "b.sql")));
  }

  for (const name of dirsIn(join(FIXTURES, "cases"))) {
    const dir = join(FIXTURES, "cases", name);
    test(`bough case ${name}`, () => converge(join(dir, "a.sql"), join(dir, "b.sql")));
  }

  /** base.sql on main, then parent.sql on main and branch.sql on the branch: a real three-way merge. */
  for (const name of dirsIn(join(FIXTURES, "three-way"))) {
    const dir = join(FIXTURES, "three-way", name);
    test(`three-way ${name}`, async () => {
      const project = `c${++n}`;
      const main = await t.project(project);
      try {
        await ensureCorpusRoles(main);
        await loadSql(main, join(dir, "base.sql"));
        const branch = await t.branch(project, "b");
        const base = await withClient(main, introspect);
        await loadSql(main, join(dir, "parent.sql"));
        await loadSql(branch, join(dir, "branch.sql"));
        const before = await withClient(main, introspect);
        const report = await mergeBranch(t.ctx, { project, name: "b" });
        const after = await withClient(main, introspect);
        if (name === "conflicts") {
          assert.equal(report.blocked, true, report.preview);
          assert.deepEqual(
            differingIds(before, after),
            [],
            "a blocked merge leaves the parent as it was",
          );
        } else {
          assert.equal(report.merged, true, report.preview);
          // Checked here too, independently of the rehearsal: what the parent kept, what it took.
          await assertMergedSchema({ main, branch, base, parentBefore: before });
        }
      } finally {
        await deleteProject(t.ctx, { name: project });
      }
    });
  }
});
