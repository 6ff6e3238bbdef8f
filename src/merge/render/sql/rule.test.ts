import assert from "node:assert/strict";
import { test } from "node:test";
import { objectId } from "../../catalog/ids.ts";
import type { CommentObject, RuleObject, StatisticsObject } from "../../catalog/snapshot.ts";
import { snapshot, table } from "../../fixtures/builders.ts";
import { sqlContext } from "./context.ts";
import { alterSql, createSql, dropSql, impactOf } from "./index.ts";

const sql = (steps: { sql: string }[]) => steps.map((s) => s.sql);

const rule = (o: Partial<RuleObject> = {}): RuleObject => ({
  kind: "rule",
  id: `rule:public."Items"."No deletes"`,
  deps: [`table:public."Items"`],
  schema: "public",
  table: "Items",
  name: "No deletes",
  definition: `CREATE RULE "No deletes" AS\n    ON DELETE TO public."Items" DO INSTEAD NOTHING;`,
  enabled: "O",
  ...o,
});

const stats = (o: Partial<StatisticsObject> = {}): StatisticsObject => ({
  kind: "statistics",
  id: "statistics:app.ab",
  deps: ["schema:app", "table:public.t"],
  schema: "app",
  name: "ab",
  relation: "public.t",
  definition: "CREATE STATISTICS app.ab (ndistinct) ON a, b FROM public.t",
  ...o,
});

const ctx = sqlContext({ branch: snapshot([table(`public."Items"`), rule(), stats()]) });

test("rules: created as Postgres prints them, a firing mode after, dropped by name on their table", () => {
  assert.equal(objectId(rule()), rule().id);
  assert.deepEqual(sql(createSql(rule({ enabled: "D" }), ctx)), [
    `CREATE RULE "No deletes" AS\n    ON DELETE TO public."Items" DO INSTEAD NOTHING;`,
    `ALTER TABLE "public"."Items" DISABLE RULE "No deletes";`,
  ]);
  assert.deepEqual(sql(dropSql(rule(), ctx)), [`DROP RULE "No deletes" ON "public"."Items";`]);
  for (const s of [...createSql(rule(), ctx), ...dropSql(rule(), ctx)])
    assert.deepEqual(s.hazards, ["access-exclusive-lock"]);
});

test("rules: a new definition is CREATE OR REPLACE, the firing mode ALTER TABLE; both in place", () => {
  const after = rule({
    definition: `CREATE RULE "No deletes" AS\n    ON DELETE TO public."Items" DO ALSO NOTIFY items;`,
    enabled: "R",
  });
  assert.equal(impactOf(rule(), after), "in-place");
  assert.deepEqual(sql(alterSql(rule(), after, ctx)), [
    `CREATE OR REPLACE RULE "No deletes" AS\n    ON DELETE TO public."Items" DO ALSO NOTIFY items;`,
    `ALTER TABLE "public"."Items" ENABLE REPLICA RULE "No deletes";`,
  ]);
  assert.deepEqual(sql(alterSql(rule(), rule({ enabled: "A" }), ctx)), [
    `ALTER TABLE "public"."Items" ENABLE ALWAYS RULE "No deletes";`,
  ]);
});

test("statistics: CREATE with the target after it, SET STATISTICS in place, a new definition recreates", () => {
  assert.equal(objectId(stats()), "statistics:app.ab");
  assert.deepEqual(sql(createSql(stats({ statisticsTarget: 0 }), ctx)), [
    "CREATE STATISTICS app.ab (ndistinct) ON a, b FROM public.t;",
    `ALTER STATISTICS "app"."ab" SET STATISTICS 0;`,
  ]);
  assert.deepEqual(sql(createSql(stats(), ctx)), [
    "CREATE STATISTICS app.ab (ndistinct) ON a, b FROM public.t;",
  ]);
  assert.equal(impactOf(stats(), stats({ statisticsTarget: 500 })), "in-place");
  assert.deepEqual(sql(alterSql(stats({ statisticsTarget: 500 }), stats(), ctx)), [
    `ALTER STATISTICS "app"."ab" SET STATISTICS -1;`,
  ]);
  const wider = stats({ definition: "CREATE STATISTICS app.ab ON a, b, (a + b) FROM public.t" });
  assert.equal(impactOf(stats(), wider), "recreate");
  assert.deepEqual(sql(dropSql(stats(), ctx)), [`DROP STATISTICS "app"."ab";`]);
  assert.ok(createSql(stats(), ctx).every((s) => s.hazards.length === 0));
});

test("comments on rules and statistics name them the way COMMENT ON wants", () => {
  const on = (target: string): CommentObject => ({
    kind: "comment",
    id: `comment:${target}`,
    deps: [target],
    target,
    text: "why",
  });
  assert.deepEqual(sql(createSql(on(rule().id), ctx)), [
    `COMMENT ON RULE "No deletes" ON "public"."Items" IS 'why';`,
  ]);
  assert.deepEqual(sql(dropSql(on(stats().id), ctx)), [
    `COMMENT ON STATISTICS "app"."ab" IS NULL;`,
  ]);
});
