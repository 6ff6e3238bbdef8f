/**
 * Issue 7, items 4 and 10: the PUBLIC pseudo-role is never confused with a role that is
 * merely named like it, role names with quotes and unicode merge to exactly that role,
 * and objects whose names contain dots have distinct ids through introspect, create,
 * diff and merge. Real clusters: one project, its main and a branch.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { diffBranch } from "../src/branches/diff.ts";
import { mergeBranch } from "../src/branches/merge.ts";
import { withClient } from "../src/branches/sql.ts";
import { introspect } from "../src/merge/introspect/index.ts";
import { assertMergedSchema } from "./helpers/merged-schema.ts";
import { type TestHome, testHome } from "./helpers/project.ts";
import { query, rows } from "./helpers/sql.ts";

const snap = (url: string) => withClient(url, introspect);

/** Roles are cluster-wide and not merged: they exist on main before the branch is made. */
const BASE = `
  CREATE ROLE "PUBLIC"; CREATE ROLE "Public"; CREATE ROLE "o""neil"; CREATE ROLE "rôle✓";
  CREATE ROLE outsider;
  CREATE TABLE t_upper (id int); CREATE TABLE t_mixed (id int); CREATE TABLE t_quote (id int);
  CREATE TABLE t_unicode (id int, secret text); CREATE TABLE t_everyone (id int);
  CREATE TABLE docs (id int, owner text); ALTER TABLE docs ENABLE ROW LEVEL SECURITY;
  CREATE SEQUENCE s; CREATE TYPE mood AS ENUM ('ok'); CREATE SCHEMA a;`;

const BRANCH = `
  GRANT SELECT ON t_upper TO "PUBLIC";
  GRANT SELECT ON t_mixed TO "Public";
  GRANT SELECT, UPDATE ON t_quote TO "o""neil";
  GRANT SELECT (id) ON t_unicode TO "rôle✓";
  GRANT SELECT ON t_everyone TO PUBLIC;
  GRANT INSERT ON t_everyone TO "public";
  GRANT USAGE ON SEQUENCE s TO "Public";
  GRANT USAGE ON SCHEMA a TO "PUBLIC";
  REVOKE USAGE ON TYPE mood FROM PUBLIC; GRANT USAGE ON TYPE mood TO "o""neil";
  CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';
  REVOKE EXECUTE ON FUNCTION f() FROM PUBLIC; GRANT EXECUTE ON FUNCTION f() TO "PUBLIC";
  CREATE POLICY p_upper ON docs TO "PUBLIC" USING (true);
  CREATE POLICY p_everyone ON docs TO public USING (owner = current_user);
  CREATE POLICY p_named ON docs TO "o""neil", "rôle✓" USING (id > 0);`;

/** Schema a + table "b.c" and schema "a.b" + table c: one id each, joined names would collide. */
const DOTS_BASE = `
  CREATE ROLE "PUBLIC"; CREATE ROLE outsider;
  CREATE SCHEMA a; CREATE SCHEMA "a.b";
  CREATE TABLE a."b.c" (x int); CREATE TABLE "a.b".c (y text);`;

const DOTS_BRANCH = `
  ALTER TABLE a."b.c" ADD COLUMN z int; CREATE INDEX b_c_x ON a."b.c" (x);
  ALTER TABLE "a.b".c ADD COLUMN w int; GRANT SELECT ON "a.b".c TO "PUBLIC";
  COMMENT ON COLUMN a."b.c".z IS 'in a, table b.c';
  -- References between dotted names: a foreign key, OWNED BY, inheritance.
  ALTER TABLE a."b.c" ADD CONSTRAINT b_c_pkey PRIMARY KEY (x);
  CREATE TABLE "a.b"."c.d" (id serial, ref int CONSTRAINT ref_fk REFERENCES a."b.c" (x));
  CREATE TABLE a."b.c.kid" (extra int) INHERITS (a."b.c");`;

/** Non-owner ACL entries of one relation: [grantee ("" for PUBLIC), privilege], sorted. */
async function acl(url: string, rel: string): Promise<[string, string][]> {
  const r = await rows<{ grantee: string; privilege: string }>(
    url,
    `SELECT coalesce(ro.rolname, '') AS grantee, x.privilege_type AS privilege
       FROM pg_class c, aclexplode(c.relacl) x LEFT JOIN pg_roles ro ON ro.oid = x.grantee
      WHERE c.oid = $1::regclass AND x.grantee <> c.relowner
        -- Supabase's API roles get every table in public by default privileges.
        AND coalesce(ro.rolname, '') NOT IN ('anon', 'authenticated', 'service_role')
      ORDER BY 1, 2`,
    [rel],
  );
  return r.map((x) => [x.grantee, x.privilege]);
}

/** has_*_privilege for a role given by name (looked up as a name: "PUBLIC" is a role here). */
async function can(url: string, role: string, check: string, object: string, priv: string) {
  const [r] = await rows<{ ok: boolean }>(
    url,
    `SELECT ${check}((SELECT oid FROM pg_roles WHERE rolname = $1), $2, $3) AS ok`,
    [role, object, priv],
  );
  return r.ok;
}

describe("roles named like PUBLIC, with quotes or unicode, in grants and policies", () => {
  let t: TestHome;
  let main: string;
  let branch: string;

  before(async () => {
    t = await testHome();
    main = await t.project("roles");
    await query(main, BASE);
    branch = await t.branch("roles", "b");
    await query(branch, BRANCH);
  });
  after(() => t.dispose());

  test("diff and merge: every grant and policy names exactly its role", async () => {
    const d = await diffBranch(t.ctx, { project: "roles", name: "b" });
    assert.deepEqual(d.conflicts, []);
    const changed = d.branchChanges.map((c) => c.id);
    for (const id of [
      'grant:table:public.t_upper:"PUBLIC"',
      'grant:table:public.t_mixed:"Public"',
      'grant:table:public.t_quote:"o""neil"',
      'grant:column:public.t_unicode.id:"rôle✓"',
      "grant:table:public.t_everyone:PUBLIC",
      'grant:function:public.f():"PUBLIC"',
      'grant:schema:a:"PUBLIC"',
    ]) {
      assert.ok(changed.includes(id), `${id} in ${changed.join(" ")}`);
    }
    const dry = await mergeBranch(t.ctx, { project: "roles", name: "b", dryRun: true });
    assert.match(dry.preview, /GRANT SELECT ON TABLE "public"\."t_upper" TO "PUBLIC";/);
    assert.match(dry.preview, /GRANT INSERT, SELECT ON TABLE "public"\."t_everyone" TO PUBLIC;/);
    const parentBefore = await snap(main);
    const r = await mergeBranch(t.ctx, { project: "roles", name: "b" });
    assert.equal(r.merged, true, r.preview);

    // Exactly the named role, never everyone.
    assert.deepEqual(await acl(main, "public.t_upper"), [["PUBLIC", "SELECT"]]);
    assert.deepEqual(await acl(main, "public.t_mixed"), [["Public", "SELECT"]]);
    assert.deepEqual(await acl(main, "public.t_quote"), [
      ['o"neil', "SELECT"],
      ['o"neil', "UPDATE"],
    ]);
    assert.deepEqual(await acl(main, "public.t_everyone"), [
      ["", "INSERT"],
      ["", "SELECT"],
    ]);
    for (const [check, object, priv] of [
      ["has_table_privilege", "public.t_upper", "SELECT"],
      ["has_table_privilege", "public.t_mixed", "SELECT"],
      ["has_table_privilege", "public.t_quote", "SELECT"],
      ["has_table_privilege", "public.t_unicode", "SELECT"],
      ["has_sequence_privilege", "public.s", "USAGE"],
      ["has_schema_privilege", "a", "USAGE"],
      ["has_type_privilege", "public.mood", "USAGE"],
      ["has_function_privilege", "public.f()", "EXECUTE"],
    ]) {
      assert.equal(await can(main, "outsider", check, object, priv), false, `${check} ${object}`);
    }
    assert.equal(
      await can(main, "outsider", "has_table_privilege", "public.t_everyone", "SELECT"),
      true,
      "a real PUBLIC grant is still a grant to everyone",
    );
    assert.deepEqual(
      await rows(
        main,
        `SELECT has_column_privilege(r.oid, 'public.t_unicode', 'id', 'SELECT') AS ok
           FROM pg_roles r WHERE r.rolname = ANY($1) ORDER BY r.rolname`,
        [["outsider", "rôle✓"]],
      ),
      [{ ok: false }, { ok: true }],
    );
    assert.equal(
      await can(main, "PUBLIC", "has_function_privilege", "public.f()", "EXECUTE"),
      true,
    );
    assert.equal(await can(main, "Public", "has_sequence_privilege", "public.s", "USAGE"), true);
    assert.equal(await can(main, 'o"neil', "has_type_privilege", "public.mood", "USAGE"), true);
    assert.deepEqual(
      await rows(
        main,
        `SELECT coalesce(ro.rolname, '') AS grantee, x.privilege_type AS privilege
           FROM pg_attribute a, aclexplode(a.attacl) x LEFT JOIN pg_roles ro ON ro.oid = x.grantee
          WHERE a.attrelid = 'public.t_unicode'::regclass AND a.attacl IS NOT NULL`,
      ),
      [{ grantee: "rôle✓", privilege: "SELECT" }],
    );
    assert.deepEqual(
      await rows(
        main,
        `SELECT p.polname AS name,
                array(SELECT coalesce(ro.rolname::text, '') FROM unnest(p.polroles) r
                        LEFT JOIN pg_roles ro ON ro.oid = r ORDER BY 1) AS roles
           FROM pg_policy p WHERE p.polrelid = 'public.docs'::regclass ORDER BY 1`,
      ),
      [
        { name: "p_everyone", roles: [""] },
        { name: "p_named", roles: ['o"neil', "rôle✓"] },
        { name: "p_upper", roles: ["PUBLIC"] },
      ],
    );
    await assertMergedSchema({ main, branch, base: parentBefore, parentBefore });
    const again = await mergeBranch(t.ctx, { project: "roles", name: "b", dryRun: true });
    assert.equal(again.statements.length, 0, again.preview);
  });
});

describe("objects whose names contain dots", () => {
  let t: TestHome;
  let main: string;

  before(async () => {
    t = await testHome();
    main = await t.project("dots");
    await query(main, DOTS_BASE);
  });
  after(() => t.dispose());

  test('introspect, create, diff and merge with both a."b.c" and "a.b".c', async () => {
    const base = await snap(main);
    // The platform's own tables (auth, email, storage, functions, ...) are in every project.
    const tables = Object.keys(base.objects).filter(
      (id) =>
        id.startsWith("table:") &&
        !/^table:(auth|email|storage|functions|realtime|schedules|secrets)\./.test(id),
    );
    assert.deepEqual(tables, ['table:"a.b".c', 'table:a."b.c"']);
    assert.equal(base.objects['column:a."b.c".x']?.kind, "column");
    assert.equal(base.objects['column:"a.b".c.y']?.kind, "column");

    const branch = await t.branch("dots", "b");
    await query(branch, DOTS_BRANCH);
    await query(main, 'ALTER TABLE "a.b".c ADD COLUMN from_parent int');
    const d = await diffBranch(t.ctx, { project: "dots", name: "b" });
    assert.deepEqual(d.conflicts, []);
    assert.deepEqual(d.branchChanges.map((c) => c.id).sort(), [
      'column:"a.b"."c.d".id',
      'column:"a.b"."c.d".ref',
      'column:"a.b".c.w',
      'column:a."b.c".x',
      'column:a."b.c".z',
      'column:a."b.c.kid".extra',
      'column:a."b.c.kid".x',
      'column:a."b.c.kid".z',
      'comment:column:a."b.c".z',
      'constraint:"a.b"."c.d".ref_fk',
      'constraint:a."b.c".b_c_pkey',
      'grant:table:"a.b".c:"PUBLIC"',
      "index:a.b_c_x",
      'sequence:"a.b"."c.d_id_seq"',
      'table:"a.b"."c.d"',
      'table:a."b.c.kid"',
    ]);
    const fk = (await snap(branch)).objects['constraint:"a.b"."c.d".ref_fk'];
    assert.equal(fk.kind === "constraint" && fk.references, 'a."b.c"');
    assert.deepEqual(
      d.parentChanges.map((c) => c.id),
      ['column:"a.b".c.from_parent'],
    );
    const parentBefore = await snap(main);
    const r = await mergeBranch(t.ctx, { project: "dots", name: "b" });
    assert.equal(r.merged, true, r.preview);
    assert.match(r.preview, /-- create column:a\."b\.c"\.z\n/);
    assert.match(r.preview, /ALTER TABLE "a"\."b\.c" ADD COLUMN "z" integer;/);
    assert.deepEqual(
      await rows(
        main,
        `SELECT attrelid::regclass::text AS rel, attname AS col FROM pg_attribute
          WHERE attrelid IN ('a."b.c"'::regclass, '"a.b".c'::regclass) AND attnum > 0
          ORDER BY 1, attnum`,
      ),
      [
        { rel: '"a.b".c', col: "y" },
        { rel: '"a.b".c', col: "from_parent" },
        { rel: '"a.b".c', col: "w" },
        { rel: 'a."b.c"', col: "x" },
        { rel: 'a."b.c"', col: "z" },
      ],
    );
    assert.deepEqual(await acl(main, '"a.b".c'), [["PUBLIC", "SELECT"]]);
    assert.deepEqual(
      await rows(
        main,
        `SELECT (SELECT inhparent::regclass::text FROM pg_inherits
                  WHERE inhrelid = 'a."b.c.kid"'::regclass) AS parent,
                (SELECT confrelid::regclass::text FROM pg_constraint WHERE conname = 'ref_fk') AS fk,
                pg_get_serial_sequence('"a.b"."c.d"', 'id') AS seq`,
      ),
      [{ parent: 'a."b.c"', fk: 'a."b.c"', seq: '"a.b"."c.d_id_seq"' }],
    );
    await assertMergedSchema({ main, branch, base, parentBefore });
  });
});
