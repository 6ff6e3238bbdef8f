import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { deleteBranch } from "../src/branches/delete.ts";
import { mergeBranch } from "../src/branches/merge.ts";
import { withClient } from "../src/branches/sql.ts";
import { introspect } from "../src/merge/introspect/index.ts";
import { type TestHome, testHome } from "./helpers/project.ts";
import { query, rows } from "./helpers/sql.ts";

/** One grantee's default privileges, as aclexplode shows them, e.g. ["INSERT", "SELECT"]. */
async function defaults(url: string, schema: string, grantee: string): Promise<string[]> {
  const r = await rows<{ p: string }>(
    url,
    `SELECT x.privilege_type AS p FROM pg_default_acl d JOIN pg_namespace n ON n.oid = d.defaclnamespace,
            aclexplode(d.defaclacl) x
      WHERE n.nspname = $1 AND x.grantee = $2::regrole ORDER BY 1`,
    [schema, grantee],
  );
  return r.map((x) => x.p);
}

describe("range types and default privileges merge three-way", () => {
  let t: TestHome;
  let main: string;
  let n = 0;
  const project = "rd";
  const branchName = () => `b${++n}`;

  before(async () => {
    t = await testHome();
    main = await t.project(project);
    await query(
      main,
      `DO $$ BEGIN CREATE ROLE rd_a; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
       DO $$ BEGIN CREATE ROLE rd_b; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
       CREATE SCHEMA app;
       CREATE TYPE app.span AS RANGE (subtype = int4);
       CREATE TABLE app.slot (id int PRIMARY KEY, s app.span);
       ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO rd_a;`,
    );
  });
  after(() => t.dispose());

  test("a range type's comment and grant on the branch, a new column of it on the parent: both kept", async () => {
    const name = branchName();
    const branch = await t.branch(project, name);
    await query(
      branch,
      "COMMENT ON TYPE app.span IS 'slots'; GRANT USAGE ON TYPE app.span TO rd_b",
    );
    await query(main, "ALTER TABLE app.slot ADD COLUMN t app.span");
    const r = await mergeBranch(t.ctx, { project, name });
    assert.equal(r.merged, true, r.preview);
    assert.match(r.preview, /COMMENT ON TYPE "app"\."span" IS 'slots';/);
    const snap = await withClient(main, introspect);
    assert.equal(snap.objects["comment:range:app.span"]?.kind, "comment");
    assert.ok(snap.objects["grant:range:app.span:rd_b"]);
    assert.ok(snap.objects["column:app.slot.t"]?.deps.includes("range:app.span"));
    await deleteBranch(t.ctx, { project, name });
  });

  test("both sides add privileges to one grantee and grant to others: all of it kept", async () => {
    const name = branchName();
    const branch = await t.branch(project, name);
    await query(
      branch,
      `ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT INSERT ON TABLES TO rd_a;
       ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO rd_b`,
    );
    await query(main, "ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT UPDATE ON TABLES TO rd_a");
    const r = await mergeBranch(t.ctx, { project, name });
    assert.equal(r.merged, true, r.preview);
    assert.match(
      r.preview,
      /ALTER DEFAULT PRIVILEGES FOR ROLE "[^"]+" IN SCHEMA "app" GRANT INSERT ON TABLES TO "rd_a";/,
    );
    assert.deepEqual(await defaults(main, "app", "rd_a"), ["INSERT", "SELECT", "UPDATE"]);
    assert.deepEqual(await defaults(main, "app", "rd_b"), ["SELECT"]);
    await deleteBranch(t.ctx, { project, name });
  });

  test("the parent revokes a grantee's defaults, the branch changes them: a conflict, parent untouched", async () => {
    const name = branchName();
    const branch = await t.branch(project, name);
    await query(branch, "ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT DELETE ON TABLES TO rd_b");
    await query(main, "ALTER DEFAULT PRIVILEGES IN SCHEMA app REVOKE ALL ON TABLES FROM rd_b");
    const r = await mergeBranch(t.ctx, { project, name });
    assert.equal(r.blocked, true, r.preview);
    assert.equal(r.merged, false);
    assert.ok(
      r.conflicts.some((c) => "id" in c && /^default_privilege:.*:app:tables:rd_b$/.test(c.id)),
      r.preview,
    );
    assert.deepEqual(await defaults(main, "app", "rd_b"), []);
    await deleteBranch(t.ctx, { project, name });
  });

  test("default privileges for a role the parent lacks: refused up front, naming it", async () => {
    const name = branchName();
    const branch = await t.branch(project, name);
    await query(
      branch,
      "CREATE ROLE rd_ghost; ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO rd_ghost",
    );
    const r = await mergeBranch(t.ctx, { project, name });
    assert.equal(r.blocked, true, r.preview);
    assert.equal(r.merged, false);
    assert.ok(
      r.unmergeable.some((p) =>
        /name role rd_ghost, and the target has no role rd_ghost: .*CREATE ROLE rd_ghost/.test(
          p.message,
        ),
      ),
      r.preview,
    );
    await deleteBranch(t.ctx, { project, name });
  });
});
