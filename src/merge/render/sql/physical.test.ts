import assert from "node:assert/strict";
import { test } from "node:test";
import { mergeAttributes } from "../../diff/attributes.ts";
import { column, snapshot, table } from "../../fixtures/builders.ts";
import { sqlContext } from "./context.ts";
import { alterSql, createSql } from "./index.ts";

const sql = (steps: { sql: string }[]) => steps.map((s) => s.sql);

test("replica identity: FULL, NOTHING, USING INDEX (after the index exists), back to DEFAULT", () => {
  const t = table("public.t");
  const ctx = sqlContext({ branch: snapshot([t]) });
  const full = { ...t, replicaIdentity: "full" as const };
  const byIndex = { ...t, replicaIdentity: "index" as const, replicaIdentityIndex: "t_u" };
  assert.deepEqual(sql(alterSql(t, full, ctx)), [
    `ALTER TABLE "public"."t" REPLICA IDENTITY FULL;`,
  ]);
  assert.deepEqual(sql(alterSql(full, t, ctx)), [
    `ALTER TABLE "public"."t" REPLICA IDENTITY DEFAULT;`,
  ]);
  const [using] = alterSql(full, byIndex, ctx);
  assert.equal(using.sql, `ALTER TABLE "public"."t" REPLICA IDENTITY USING INDEX "t_u";`);
  assert.deepEqual(using.requires, ["index:public.t_u", "constraint:public.t.t_u"]);
  assert.deepEqual(sql(createSql({ ...t, replicaIdentity: "nothing" }, ctx)), [
    `CREATE TABLE "public"."t" ();`,
    `ALTER TABLE "public"."t" REPLICA IDENTITY NOTHING;`,
  ]);
  assert.deepEqual(sql(alterSql(byIndex, byIndex, ctx)), []);
});

test("storage and statistics target: set with ONLY, reset, and again after a retype", () => {
  const a = column("public.t.a", "text");
  const ctx = sqlContext({ branch: snapshot([table("public.t"), a]) });
  const ext = { ...a, storage: "external" as const, statisticsTarget: 500 };
  assert.deepEqual(sql(alterSql(a, ext, ctx)), [
    `ALTER TABLE ONLY "public"."t" ALTER COLUMN "a" SET STORAGE EXTERNAL;`,
    `ALTER TABLE ONLY "public"."t" ALTER COLUMN "a" SET STATISTICS 500;`,
  ]);
  assert.deepEqual(sql(alterSql(ext, a, ctx)), [
    `ALTER TABLE ONLY "public"."t" ALTER COLUMN "a" SET STORAGE DEFAULT;`,
    `ALTER TABLE ONLY "public"."t" ALTER COLUMN "a" SET STATISTICS -1;`,
  ]);
  // ALTER COLUMN TYPE resets the storage to the new type's; the statistics target stays.
  assert.deepEqual(sql(alterSql(ext, { ...ext, type: "character varying(20)" }, ctx)), [
    `ALTER TABLE "public"."t" ALTER COLUMN "a" TYPE character varying(20) USING "a"::character varying(20);`,
    `ALTER TABLE ONLY "public"."t" ALTER COLUMN "a" SET STORAGE EXTERNAL;`,
  ]);
  // A new column: not ONLY, so the columns ADD COLUMN makes in children match.
  assert.deepEqual(sql(createSql(ext, ctx)), [
    `ALTER TABLE "public"."t" ADD COLUMN "a" text;`,
    `ALTER TABLE "public"."t" ALTER COLUMN "a" SET STORAGE EXTERNAL;`,
    `ALTER TABLE "public"."t" ALTER COLUMN "a" SET STATISTICS 500;`,
  ]);
});

test("a new table sets its columns' storage; a partition's inherited column is set either way", () => {
  const p = table("public.p", { partitionBy: "LIST (a)" });
  const p1 = table("public.p1", {
    partitionOf: { parent: "public.p", bound: "FOR VALUES IN (1)" },
  });
  const branch = snapshot([
    p,
    column("public.p.a", "text", { storage: "main" }),
    p1,
    column("public.p1.a", "text", { inherited: true, statisticsTarget: 10 }),
  ]);
  const ctx = sqlContext({ branch });
  assert.deepEqual(sql(createSql(p, ctx)), [
    `CREATE TABLE "public"."p" (\n    "a" text\n) PARTITION BY LIST (a);`,
    `ALTER TABLE ONLY "public"."p" ALTER COLUMN "a" SET STORAGE MAIN;`,
  ]);
  assert.deepEqual(sql(createSql(p1, ctx)), [
    `CREATE TABLE "public"."p1" PARTITION OF "public"."p" FOR VALUES IN (1);`,
    `ALTER TABLE ONLY "public"."p1" ALTER COLUMN "a" SET STORAGE DEFAULT;`,
    `ALTER TABLE ONLY "public"."p1" ALTER COLUMN "a" SET STATISTICS 10;`,
  ]);
});

test("storage and statistics target merge as attributes; storage and a retype conflict", () => {
  const a = column("public.t.a", "text");
  const merged = mergeAttributes(a, { ...a, statisticsTarget: 50 }, { ...a, storage: "main" });
  assert.deepEqual(merged.conflicts, []);
  assert.deepEqual(merged.merged, { ...a, statisticsTarget: 50, storage: "main" });
  const retyped = mergeAttributes(
    a,
    { ...a, type: "character varying" },
    { ...a, storage: "main" },
  );
  assert.deepEqual(retyped.conflicts, ["type", "storage"]);
  const t = table("public.t");
  const both = mergeAttributes(t, { ...t, rlsEnabled: true }, { ...t, replicaIdentity: "full" });
  assert.deepEqual(both.merged, { ...t, rlsEnabled: true, replicaIdentity: "full" });
});
