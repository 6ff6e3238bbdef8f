import assert from "node:assert/strict";
import { test } from "node:test";
import { defaultPrivilegeId, objectId } from "../../catalog/ids.ts";
import type { DefaultPrivilegeObject, RangeObject } from "../../catalog/snapshot.ts";
import { PUBLIC, role, snapshot } from "../../fixtures/builders.ts";
import { sqlContext } from "./context.ts";
import { alterSql, createSql, dropSql, impactOf } from "./index.ts";

const sql = (steps: { sql: string }[]) => steps.map((s) => s.sql);

const range = (o: Partial<RangeObject> = {}): RangeObject => ({
  kind: "range",
  id: "range:public.span",
  deps: ["schema:public"],
  schema: "public",
  name: "span",
  subtype: "double precision",
  opclass: "pg_catalog.float8_ops",
  collation: null,
  canonical: null,
  subtypeDiff: null,
  multirange: { schema: "public", name: "span_multirange" },
  ...o,
});

test("range types: CREATE with every option, PUBLIC's USAGE revoked when the snapshot has none, any change a retype", () => {
  const r = range({ subtypeDiff: "public.diff", collation: null });
  const ctx = sqlContext({ branch: snapshot([r]) });
  assert.equal(objectId(r), r.id);
  assert.deepEqual(sql(createSql(r, ctx)), [
    `CREATE TYPE "public"."span" AS RANGE (SUBTYPE = double precision, SUBTYPE_OPCLASS = pg_catalog.float8_ops, SUBTYPE_DIFF = public.diff, MULTIRANGE_TYPE_NAME = "public"."span_multirange");`,
    `REVOKE USAGE ON TYPE "public"."span" FROM PUBLIC;`,
  ]);
  const text = range({ subtype: "text", opclass: "pg_catalog.text_ops", collation: '"C"' });
  assert.match(
    sql(createSql(text, ctx))[0],
    /SUBTYPE_OPCLASS = pg_catalog\.text_ops, COLLATION = "C",/,
  );
  assert.deepEqual(sql(dropSql(r, ctx)), [`DROP TYPE "public"."span";`]);
  assert.equal(impactOf(r, range({ subtype: "numeric" })), "retype");
  assert.deepEqual(alterSql(r, range({ subtype: "numeric" }), ctx), []);
});

const dp = (o: Partial<DefaultPrivilegeObject> = {}): DefaultPrivilegeObject => {
  const base: DefaultPrivilegeObject = {
    kind: "default_privilege",
    id: "",
    deps: [],
    role: "owner",
    schema: null,
    objects: "tables",
    grantee: role("reader"),
    privileges: ["SELECT"],
    builtin: [],
    ...o,
  };
  return { ...base, id: defaultPrivilegeId(base.role, base.schema, base.objects, base.grantee) };
};

const ctx = sqlContext({ branch: snapshot([]) });

test("default privileges: granted in a schema, revoked back to none, the grant option on its own", () => {
  const inApp = dp({ schema: "app", deps: ["schema:app"], privileges: ["INSERT", "SELECT*"] });
  assert.equal(inApp.id, "default_privilege:owner:app:tables:reader");
  assert.equal(objectId(inApp), inApp.id);
  assert.deepEqual(sql(createSql(inApp, ctx)), [
    `ALTER DEFAULT PRIVILEGES FOR ROLE "owner" IN SCHEMA "app" GRANT INSERT ON TABLES TO "reader";`,
    `ALTER DEFAULT PRIVILEGES FOR ROLE "owner" IN SCHEMA "app" GRANT SELECT ON TABLES TO "reader" WITH GRANT OPTION;`,
  ]);
  assert.deepEqual(sql(dropSql(inApp, ctx)), [
    `ALTER DEFAULT PRIVILEGES FOR ROLE "owner" IN SCHEMA "app" REVOKE INSERT, SELECT ON TABLES FROM "reader";`,
  ]);
  assert.deepEqual(sql(alterSql(inApp, { ...inApp, privileges: ["INSERT", "SELECT"] }, ctx)), [
    `ALTER DEFAULT PRIVILEGES FOR ROLE "owner" IN SCHEMA "app" REVOKE GRANT OPTION FOR SELECT ON TABLES FROM "reader";`,
  ]);
  assert.equal(impactOf(inApp, { ...inApp, privileges: [] }), "in-place");
});

test("default privileges: a global entry is measured against the built-in defaults; revokes run early", () => {
  // The owner's own rights taken away, and PUBLIC's EXECUTE on functions.
  const own = dp({
    grantee: role("owner"),
    privileges: ["INSERT", "SELECT", "UPDATE"],
    builtin: ["DELETE", "INSERT", "SELECT", "UPDATE"],
  });
  const steps = createSql(own, ctx);
  assert.deepEqual(sql(steps), [
    `ALTER DEFAULT PRIVILEGES FOR ROLE "owner" REVOKE DELETE ON TABLES FROM "owner";`,
  ]);
  assert.equal(steps[0].early, true);
  const fns = dp({ objects: "functions", grantee: PUBLIC, privileges: [], builtin: ["EXECUTE"] });
  assert.deepEqual(sql(createSql(fns, ctx)), [
    `ALTER DEFAULT PRIVILEGES FOR ROLE "owner" REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;`,
  ]);
  // Dropped: back to the built-in default, a grant, which runs after what the plan creates.
  const back = dropSql(fns, ctx);
  assert.deepEqual(sql(back), [
    `ALTER DEFAULT PRIVILEGES FOR ROLE "owner" GRANT EXECUTE ON FUNCTIONS TO PUBLIC;`,
  ]);
  assert.equal(back[0].early, undefined);
  const lo = dp({ objects: "large objects", privileges: ["SELECT"] });
  assert.match(sql(createSql(lo, ctx))[0], / ON LARGE OBJECTS TO "reader";$/);
});
