import assert from "node:assert/strict";
import { test } from "node:test";
import { RestError } from "../errors.ts";
import { parseQuery } from "../parse-query.ts";
import type { Relation, SchemaCache } from "../schema-cache.ts";
import { Params } from "./params.ts";
import { readSql } from "./read.ts";
import { callFrom, pickFunction } from "./rpc.ts";
import { deleteSql, insertSql, updateSql } from "./write.ts";

const rel = (name: string, cols: string[], pk: string[]): Relation => ({
  schema: "public",
  name,
  kind: "table",
  columns: new Map(cols.map((c) => [c, { name: c, type: "text", hasDefault: c === "id" }])),
  pk,
  uniques: [pk],
});
const users = rel("users", ["id", "name"], ["id"]);
const posts = rel("posts", ["id", "user_id", "title"], ["id"]);
const fk = { constraint: "posts_user_id_fkey", fromColumns: ["user_id"], toColumns: ["id"] };
const cache: SchemaCache = {
  token: "t",
  schemas: ["public"],
  relations: new Map([
    ["public.users", users],
    ["public.posts", posts],
  ]),
  relationships: new Map([
    [
      "public.posts",
      [{ ...fk, cardinality: "many-to-one", from: "public.posts", to: "public.users" }],
    ],
    [
      "public.users",
      [
        {
          constraint: fk.constraint,
          cardinality: "one-to-many",
          from: "public.users",
          fromColumns: ["id"],
          to: "public.posts",
          toColumns: ["user_id"],
        },
      ],
    ],
  ]),
  functions: new Map([
    [
      "public.add",
      [
        {
          schema: "public",
          name: "add",
          args: [
            { name: "a", type: "integer", hasDefault: false },
            { name: "b", type: "integer", hasDefault: true },
          ],
          volatility: "immutable",
          returnsSet: false,
          returns: { kind: "scalar" },
        },
      ],
    ],
  ]),
  types: new Map([["int4", ["pg_catalog", "int4"]]]),
};
const q = (s: string) => parseQuery(new URLSearchParams(s));

test("a read: quoted names from the cache, every value a parameter, embeds as lateral joins", () => {
  const p = new Params();
  const { sql, estimate } = readSql({
    cache,
    rel: users,
    p,
    query: q(
      "select=n:name,id::int,posts!inner(title)&posts.title=like.a*&name=eq.x')&order=name.desc&limit=5",
    ),
    count: "exact",
  });
  assert.equal(
    sql,
    `SELECT coalesce(json_agg(_t), '[]')::text AS body, count(*) AS page_count, ` +
      `(SELECT count(*) FROM (SELECT 1 FROM "public"."users" AS "t0" ` +
      `INNER JOIN LATERAL (SELECT json_agg(_j) AS v FROM (SELECT "t1"."title" AS "title" FROM "public"."posts" AS "t1" ` +
      `WHERE "t1"."user_id" = "t0"."id" AND "t1"."title" LIKE $1) _j) AS "j1" ON "j1".v IS NOT NULL ` +
      `WHERE "t0"."name" = $2) _c) AS total FROM (` +
      `SELECT "t0"."name" AS "n", ("t0"."id")::"pg_catalog"."int4" AS "id", coalesce("j1".v, '[]') AS "posts" ` +
      `FROM "public"."users" AS "t0" INNER JOIN LATERAL (SELECT json_agg(_j) AS v FROM (SELECT "t1"."title" AS "title" ` +
      `FROM "public"."posts" AS "t1" WHERE "t1"."user_id" = "t0"."id" AND "t1"."title" LIKE $1) _j) AS "j1" ` +
      `ON "j1".v IS NOT NULL WHERE "t0"."name" = $2 ORDER BY "t0"."name" DESC LIMIT $3) _t`,
  );
  assert.deepEqual(p.values, ["a%", "x')", 5]);
  assert.equal(estimate.params, 2);
});

test("unknown names never reach SQL: 42703, PGRST200, 42704", () => {
  const code = (s: string) => {
    try {
      readSql({ cache, rel: posts, p: new Params(), query: q(s) });
      return "none";
    } catch (e) {
      return (e as RestError).code;
    }
  };
  assert.equal(code("select=id;drop table users"), "42703");
  assert.equal(code("select=*,comments(*)"), "PGRST200");
  assert.equal(code("select=id::evil"), "42704");
  assert.equal(code("order=nope"), "42703");
  assert.equal(code("users.name=eq.x"), "PGRST108");
  assert.equal(code("select=*,users(*)&users.name=eq.x"), "none");
});

test("writes: upsert through json_populate_recordset, missing=default with DEFAULT, update, delete", () => {
  const p = new Params();
  const rows = [{ id: "1", name: "a" }, { id: "2" }];
  assert.equal(
    insertSql({
      rel: users,
      rows,
      query: q(""),
      prefer: { singleObject: false, resolution: "merge-duplicates" },
      p,
    }),
    `INSERT INTO "public"."users" ("id", "name") SELECT "id", "name" FROM json_populate_recordset(NULL::"public"."users", $1::json) ` +
      `ON CONFLICT ("id") DO UPDATE SET "name" = EXCLUDED."name" RETURNING "public"."users".*`,
  );
  assert.deepEqual(p.values, [JSON.stringify(rows)]);
  const d = new Params();
  assert.equal(
    insertSql({
      rel: users,
      rows,
      query: q(""),
      prefer: { singleObject: false, missing: "default" },
      p: d,
    }),
    `INSERT INTO "public"."users" ("id", "name") VALUES ((json_populate_record(NULL::"public"."users", $1::json))."id", ` +
      `(json_populate_record(NULL::"public"."users", $1::json))."name"), ((json_populate_record(NULL::"public"."users", $2::json))."id", DEFAULT) ` +
      `RETURNING "public"."users".*`,
  );
  assert.equal(
    updateSql({ rel: users, row: { name: "b" }, query: q("id=eq.1"), p: new Params() }),
    `UPDATE "public"."users" AS "t0" SET "name" = _b."name" FROM (SELECT * FROM json_populate_record(NULL::"public"."users", $1::json)) AS _b ` +
      `WHERE "t0"."id" = $2 RETURNING "t0".*`,
  );
  assert.equal(
    deleteSql({ rel: users, query: q("name=in.(a,b)"), p: new Params() }),
    `DELETE FROM "public"."users" AS "t0" WHERE "t0"."name" = ANY($1) RETURNING "t0".*`,
  );
  assert.throws(
    () =>
      insertSql({
        rel: users,
        rows: [{ "x;drop": 1 }],
        query: q(""),
        prefer: { singleObject: false },
        p: new Params(),
      }),
    (e: unknown) => e instanceof RestError && e.code === "PGRST204",
  );
});

test("rpc: the overload the argument names call, arguments typed by json_to_record", () => {
  const f = pickFunction(cache, {
    schema: "public",
    name: "add",
    keys: ["a"],
    singleObject: false,
  });
  const p = new Params();
  assert.equal(
    callFrom(p, f, { a: 1 }, false),
    `(SELECT _r AS v FROM json_to_record($1::json) AS _a("a" integer) CROSS JOIN LATERAL "public"."add"("a" := _a."a") AS _r)`,
  );
  assert.deepEqual(p.values, ['{"a":1}']);
  for (const keys of [["b"], ["a", "c"]]) {
    assert.throws(
      () => pickFunction(cache, { schema: "public", name: "add", keys, singleObject: false }),
      (e: unknown) => e instanceof RestError && e.code === "PGRST202" && e.status === 404,
    );
  }
});
