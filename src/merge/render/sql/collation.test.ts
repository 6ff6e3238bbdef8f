import assert from "node:assert/strict";
import { test } from "node:test";
import { collation, comment, snapshot } from "../../fixtures/builders.ts";
import { sqlContext } from "./context.ts";
import { alterSql, createSql, dropSql, impactOf } from "./index.ts";

const numeric = collation("public.numeric", { locale: "en-u-kn-true" });
const ctx = sqlContext({ branch: snapshot([numeric]) });
const sql = (steps: { sql: string }[]) => steps.map((s) => s.sql);

test("CREATE COLLATION names the provider and what it needs: locale, or lc_collate and lc_ctype", () => {
  assert.deepEqual(sql(createSql(numeric, ctx)), [
    `CREATE COLLATION "public"."numeric" (provider = icu, locale = 'en-u-kn-true', deterministic = true);`,
  ]);
  const posix = collation("app.posix", {
    provider: "libc",
    locale: null,
    lcCollate: "POSIX",
    lcCtype: "C.UTF-8",
  });
  assert.deepEqual(sql(createSql(posix, ctx)), [
    `CREATE COLLATION "app"."posix" (provider = libc, lc_collate = 'POSIX', lc_ctype = 'C.UTF-8', deterministic = true);`,
  ]);
  const builtin = collation("public.b", { provider: "builtin", locale: "C.UTF-8" });
  assert.deepEqual(sql(createSql(builtin, ctx)), [
    `CREATE COLLATION "public"."b" (provider = builtin, locale = 'C.UTF-8', deterministic = true);`,
  ]);
  const tailored = collation("public.ci", { deterministic: false, rules: "&a < g" });
  assert.deepEqual(sql(createSql(tailored, ctx)), [
    `CREATE COLLATION "public"."ci" (provider = icu, locale = 'und', deterministic = false, rules = '&a < g');`,
  ]);
});

test("a collation is dropped by name, never altered: any change rebuilds it like a type", () => {
  assert.deepEqual(sql(dropSql(numeric, ctx)), [`DROP COLLATION "public"."numeric";`]);
  const other = { ...numeric, locale: "de-u-kn-true" };
  assert.deepEqual(alterSql(numeric, other, ctx), []);
  assert.equal(impactOf(numeric, other), "retype");
  assert.equal(impactOf(numeric, { ...numeric, deterministic: false }), "retype");
});

test("comments on a collation name it as COLLATION", () => {
  assert.deepEqual(sql(createSql(comment("collation:public.numeric", "natural order"), ctx)), [
    `COMMENT ON COLLATION "public"."numeric" IS 'natural order';`,
  ]);
});
