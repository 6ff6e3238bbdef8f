import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { mergeBranch } from "../src/branches/merge.ts";
import { withClient } from "../src/branches/sql.ts";
import { introspect } from "../src/merge/introspect/index.ts";
import { assertMergedSchema } from "./helpers/merged-schema.ts";
import { type TestHome, testHome } from "./helpers/project.ts";
import { query, rows } from "./helpers/sql.ts";

const snap = (url: string) => withClient(url, introspect);

/** What the catalogs say of the rules on t and of the statistics objects, with comments. */
async function catalog(url: string) {
  const rules = await rows(
    url,
    `SELECT r.rulename AS name, r.ev_enabled AS enabled, pg_get_ruledef(r.oid, true) AS def,
            obj_description(r.oid, 'pg_rewrite') AS comment
       FROM pg_rewrite r WHERE r.ev_class = 'public.t'::regclass ORDER BY 1`,
  );
  const statistics = await rows(
    url,
    `SELECT s.stxname AS name, pg_get_statisticsobjdef(s.oid) AS def, s.stxstattarget AS target,
            obj_description(s.oid, 'pg_statistic_ext') AS comment
       FROM pg_statistic_ext s ORDER BY 1`,
  );
  return { rules, statistics };
}

describe("rules and extended statistics merge three-way, attribute by attribute", () => {
  let t: TestHome;
  let n = 0;
  async function setup(sql: string) {
    const project = `rs${++n}`;
    const main = await t.project(project);
    await query(main, sql);
    const branch = await t.branch(project, "b");
    return { project, main, branch, base: await snap(main) };
  }

  before(async () => {
    t = await testHome();
  });
  after(() => t.dispose());

  const BASE = `CREATE TABLE t (id int PRIMARY KEY, a int, b int);
    CREATE TABLE log (a int, note text);
    CREATE RULE r AS ON INSERT TO t DO ALSO INSERT INTO log (a) VALUES (new.a);
    CREATE STATISTICS st ON a, b FROM t;`;

  test("created, changed and disabled on the branch: merged, shown, and proven by the fingerprint", async () => {
    const s = await setup(BASE);
    await query(
      s.branch,
      `CREATE OR REPLACE RULE r AS ON INSERT TO t DO ALSO INSERT INTO log (a, note) VALUES (new.a, 'new');
       CREATE RULE q AS ON DELETE TO t DO INSTEAD NOTHING;
       ALTER TABLE t DISABLE RULE q;
       DROP STATISTICS st;
       CREATE STATISTICS st2 (mcv) ON a, b FROM t;
       ALTER STATISTICS st2 SET STATISTICS 0;
       COMMENT ON STATISTICS st2 IS 'pairs';`,
    );
    const parentBefore = await snap(s.main);
    const r = await mergeBranch(t.ctx, { project: s.project, name: "b" });
    assert.equal(r.merged, true, r.preview);
    assert.deepEqual(r.unmergeable, []);
    assert.deepEqual(r.notCarried, []);
    assert.match(r.preview, /CREATE OR REPLACE RULE r AS/);
    assert.match(r.preview, /ALTER TABLE "public"\."t" DISABLE RULE "q";/);
    assert.match(r.preview, /ALTER STATISTICS "public"\."st2" SET STATISTICS 0;/);
    assert.deepEqual(await catalog(s.main), await catalog(s.branch));
    await assertMergedSchema({ ...s, parentBefore });
  });

  test("a definition on one side, firing mode, target and comments on the other: all kept", async () => {
    const s = await setup(BASE);
    await query(
      s.main,
      `ALTER TABLE t DISABLE RULE r; COMMENT ON RULE r ON t IS 'audit';
       ALTER STATISTICS st SET STATISTICS 300; COMMENT ON STATISTICS st IS 'pair';`,
    );
    await query(
      s.branch,
      `CREATE OR REPLACE RULE r AS ON INSERT TO t DO ALSO INSERT INTO log (a, note) VALUES (new.b, 'b');
       DROP STATISTICS st; CREATE STATISTICS st (dependencies) ON a, b FROM t;`,
    );
    const r = await mergeBranch(t.ctx, { project: s.project, name: "b" });
    assert.equal(r.merged, true, r.preview);
    const branch = await catalog(s.branch);
    assert.deepEqual(await catalog(s.main), {
      rules: [{ ...branch.rules[0], enabled: "D", comment: "audit" }],
      statistics: [{ ...branch.statistics[0], target: 300, comment: "pair" }],
    });
  });

  test("a column a rule and statistics read changes type on the branch: both rebuilt around it as the parent has them", async () => {
    const s = await setup(BASE);
    await query(
      s.main,
      "ALTER TABLE t DISABLE RULE r; COMMENT ON RULE r ON t IS 'audit'; ALTER STATISTICS st SET STATISTICS 300",
    );
    await query(
      s.branch,
      `DROP RULE r ON t;
       ALTER TABLE t ALTER COLUMN a TYPE bigint; ALTER TABLE log ALTER COLUMN a TYPE bigint;
       CREATE RULE r AS ON INSERT TO t DO ALSO INSERT INTO log (a) VALUES (new.a);`,
    );
    const r = await mergeBranch(t.ctx, { project: s.project, name: "b" });
    assert.equal(r.merged, true, r.preview);
    const at = (re: RegExp) => {
      const i = r.preview.search(re);
      assert.ok(i >= 0, `${re}\n${r.preview}`);
      return i;
    };
    const retype = at(/ALTER TABLE "public"\."t" ALTER COLUMN "a" TYPE bigint/);
    assert.ok(at(/DROP RULE "r" ON "public"\."t";/) < retype, r.preview);
    assert.ok(at(/DROP STATISTICS "public"\."st";/) < retype, r.preview);
    assert.ok(at(/CREATE RULE r AS/) > retype, r.preview);
    assert.ok(at(/ALTER STATISTICS "public"\."st" SET STATISTICS 300;/) > retype, r.preview);
    const main = await catalog(s.main);
    assert.deepEqual(
      main.rules.map((x) => [x.name, x.enabled, x.comment]),
      [["r", "D", "audit"]],
    );
    assert.deepEqual(
      main.statistics.map((x) => [x.name, x.target]),
      [["st", 300]],
    );
  });

  test("both sides change a rule's definition differently: a conflict naming it, main untouched", async () => {
    const s = await setup(BASE);
    await query(
      s.main,
      "CREATE OR REPLACE RULE r AS ON INSERT TO t DO ALSO INSERT INTO log (note) VALUES ('parent')",
    );
    await query(
      s.branch,
      `CREATE OR REPLACE RULE r AS ON INSERT TO t DO ALSO INSERT INTO log (note) VALUES ('branch');
       ALTER STATISTICS st SET STATISTICS 10;`,
    );
    const before = await catalog(s.main);
    const r = await mergeBranch(t.ctx, { project: s.project, name: "b" });
    assert.equal(r.blocked, true, r.preview);
    assert.equal(r.merged, false);
    assert.match(r.preview, /MERGE BLOCKED/);
    assert.match(r.preview, /rule:public\.t\.r/);
    assert.match(r.preview, /the definition of this object/);
    assert.deepEqual(await catalog(s.main), before);
  });
});
