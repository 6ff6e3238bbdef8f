import assert from "node:assert/strict";
import { test } from "node:test";
import { objectId, publicationTableId } from "../../catalog/ids.ts";
import type {
  PublicationObject,
  PublicationSchemaObject,
  PublicationTableObject,
} from "../../catalog/snapshot.ts";
import { snapshot, table } from "../../fixtures/builders.ts";
import { sqlContext } from "./context.ts";
import { alterSql, createSql, dropSql, impactOf } from "./index.ts";

const ctx = sqlContext({ branch: snapshot([table("public.items")]) });
const sql = (steps: { sql: string }[]) => steps.map((s) => s.sql);

const pub = (o: Partial<PublicationObject> = {}): PublicationObject => ({
  kind: "publication",
  id: "publication:supabase_realtime",
  deps: [],
  name: "supabase_realtime",
  allTables: false,
  publish: ["insert", "update", "delete", "truncate"],
  viaRoot: false,
  ...o,
});

const member = (o: Partial<PublicationTableObject> = {}): PublicationTableObject => ({
  kind: "publication_table",
  id: "publication_table:supabase_realtime:public.items",
  deps: ["publication:supabase_realtime", "table:public.items"],
  publication: "supabase_realtime",
  schema: "public",
  table: "items",
  columns: null,
  rowFilter: null,
  ...o,
});

test("publications: CREATE with its options, SET in place, FOR ALL TABLES recreated", () => {
  const feed = pub({ id: "publication:Feed", name: "Feed", publish: ["insert"], viaRoot: true });
  assert.deepEqual(sql(createSql(feed, ctx)), [
    `CREATE PUBLICATION "Feed" WITH (publish = 'insert', publish_via_partition_root = true);`,
  ]);
  assert.deepEqual(sql(createSql(pub({ allTables: true, publish: [] }), ctx)), [
    `CREATE PUBLICATION "supabase_realtime" FOR ALL TABLES WITH (publish = '', publish_via_partition_root = false);`,
  ]);
  const after = pub({ publish: ["insert", "delete"] });
  assert.equal(impactOf(pub(), after), "in-place");
  assert.deepEqual(sql(alterSql(pub(), after, ctx)), [
    `ALTER PUBLICATION "supabase_realtime" SET (publish = 'insert, delete');`,
  ]);
  assert.equal(impactOf(pub(), pub({ allTables: true })), "recreate");
  assert.deepEqual(sql(dropSql(feed, ctx)), [`DROP PUBLICATION "Feed";`]);
});

test("publication tables: ADD with column list and row filter, DROP, any change recreates", () => {
  assert.deepEqual(sql(createSql(member(), ctx)), [
    `ALTER PUBLICATION "supabase_realtime" ADD TABLE "public"."items";`,
  ]);
  const filtered = member({ columns: ["id", "Label"], rowFilter: "(qty > 0)" });
  assert.deepEqual(sql(createSql(filtered, ctx)), [
    `ALTER PUBLICATION "supabase_realtime" ADD TABLE "public"."items" ("id", "Label") WHERE ((qty > 0));`,
  ]);
  assert.deepEqual(sql(dropSql(filtered, ctx)), [
    `ALTER PUBLICATION "supabase_realtime" DROP TABLE "public"."items";`,
  ]);
  assert.equal(impactOf(member(), filtered), "recreate");
});

test("publication schemas: ADD / DROP TABLES IN SCHEMA", () => {
  const m: PublicationSchemaObject = {
    kind: "publication_schema",
    id: "publication_schema:supabase_realtime:app",
    deps: ["publication:supabase_realtime", "schema:app"],
    publication: "supabase_realtime",
    schema: "app",
  };
  assert.equal(objectId(m), m.id);
  assert.deepEqual(sql(createSql(m, ctx)), [
    `ALTER PUBLICATION "supabase_realtime" ADD TABLES IN SCHEMA "app";`,
  ]);
  assert.deepEqual(sql(dropSql(m, ctx)), [
    `ALTER PUBLICATION "supabase_realtime" DROP TABLES IN SCHEMA "app";`,
  ]);
});

test("membership ids name the publication and the table, quoted where they must be", () => {
  assert.equal(objectId(member()), "publication_table:supabase_realtime:public.items");
  assert.equal(publicationTableId("Feed", "a.b", "t"), `publication_table:"Feed":"a.b".t`);
});
