import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { mergeBranch } from "../src/branches/merge.ts";
import { deleteProject } from "../src/branches/projects.ts";
import { withClient } from "../src/branches/sql.ts";
import { differingIds } from "../src/merge/catalog/equality.ts";
import { introspect } from "../src/merge/introspect/index.ts";
import { corpusCases, corpusFile, ensureCorpusRoles, loadSql } from "./helpers/corpus.ts";
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
    assert.ok(cases.length >= 20, `expected the migra corpus, found ${cases.length} cases`);
  });

  for (const [i, name] of cases.entries()) {
    test(name, async () => {
      const project = `c${i}`;
      const main = await t.project(project);
      try {
        await ensureCorpusRoles(main);
        await loadSql(main, corpusFile(name, "a.sql"));
        const branch = await t.branch(project, "b");
        await query(branch, WIPE);
        await loadSql(branch, corpusFile(name, "b.sql"));
        const report = await mergeBranch(t.ctx, { project, name: "b" });
        assert.equal(report.blocked, false, report.preview);
        const [m, b] = [await withClient(main, introspect), await withClient(branch, introspect)];
        assert.deepEqual(differingIds(m, b), [], report.preview);
      } finally {
        await deleteProject(t.ctx, { name: project });
      }
    });
  }
});
