import assert from "node:assert/strict";
import { test } from "node:test";
import { IdRegistry, relationId } from "./ids.ts";

test("registry: exact address first, then the owner; aliases resolve but are never targets", () => {
  const ids = new IdRegistry();
  ids.add("pg_class", 20000, 0, "view:s.v");
  ids.addAlias("pg_rewrite", 30000, 0, "view:s.v");
  ids.add("pg_class", 20001, 2, "column:s.t.c");
  ids.addAlias("pg_class", 0, 0, "ignored");
  assert.equal(ids.resolve("pg_class", 20000, 3), "view:s.v", "a view column stands for the view");
  assert.equal(ids.resolve("pg_rewrite", 30000, 0), "view:s.v");
  assert.equal(ids.resolve("pg_class", 20001, 2), "column:s.t.c");
  assert.equal(ids.resolve("pg_class", 20001, 1), undefined);
  assert.equal(ids.target("pg_rewrite", 30000), undefined, "aliases are not grant/comment targets");
  assert.equal(ids.target("pg_class", 20000, 3), undefined, "targets are exact");
  assert.equal(ids.resolve("pg_class", 0, 0), undefined, "oid 0 is never registered");
  assert.equal(ids.resolve("pg_class", 4294967295, 1600), undefined, "largest address is exact");
});

test("relationId maps relkinds to snapshot kinds", () => {
  assert.equal(relationId("p", "s", "t"), "table:s.t");
  assert.equal(relationId("m", "s", "v"), "matview:s.v");
  assert.throws(() => relationId("f", "s", "x"), /unexpected relkind/);
});
