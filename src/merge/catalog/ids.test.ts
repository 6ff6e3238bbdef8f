import assert from "node:assert/strict";
import { test } from "node:test";
import { PUBLIC, role, table } from "../fixtures/builders.ts";
import {
  columnId,
  configColumnId,
  configTableId,
  functionId,
  grantId,
  idPart,
  objectId,
  qualified,
  splitQualified,
  tableId,
} from "./ids.ts";

test("names are bare when plain and quoted like quote_ident otherwise", () => {
  assert.equal(tableId("public", "users"), "table:public.users");
  assert.equal(idPart("Order"), '"Order"');
  assert.equal(idPart('o"neil'), '"o""neil"');
  assert.equal(idPart("rôle✓"), '"rôle✓"');
  assert.equal(idPart("1st"), '"1st"');
  assert.equal(idPart(""), '""');
  assert.equal(columnId("app", "b.c", "x"), 'column:app."b.c".x');
});

test("dotted names no longer collide", () => {
  assert.equal(tableId("a", "b.c"), 'table:a."b.c"');
  assert.equal(tableId("a.b", "c"), 'table:"a.b".c');
  assert.notEqual(tableId("a", "b.c"), tableId("a.b", "c"));
  assert.notEqual(columnId("a", "b", "c.d"), columnId("a", "b.c", "d"));
  assert.notEqual(functionId("a", "b.c", ""), functionId("a.b", "c", ""));
});

test("splitQualified undoes qualified, quotes and dots included", () => {
  for (const names of [
    ["public", "users"],
    ["a.b", "c"],
    ["a", "b.c"],
    ['x"."y', 'q""', "."],
    ["rôle✓", "", "Z"],
  ]) {
    assert.deepEqual(splitQualified(qualified(...names)), names);
  }
  assert.equal(splitQualified('"open'), null);
  assert.equal(splitQualified('"a"b'), null);
});

test("the PUBLIC pseudo-role and a role named PUBLIC have different grant ids", () => {
  assert.equal(grantId("table:s.t", PUBLIC), "grant:table:s.t:PUBLIC");
  assert.equal(grantId("table:s.t", role("PUBLIC")), 'grant:table:s.t:"PUBLIC"');
  assert.equal(grantId("table:s.t", role("reader")), "grant:table:s.t:reader");
});

test("objectId gives an object the id introspection gives it", () => {
  const t = { ...table("a.x"), schema: "a", name: "b.c" };
  assert.equal(objectId(t), 'table:a."b.c"');
});

test("config table names resolve like the data layer: shortest schema that has the table", () => {
  const has = (id: string) => id === 'table:"a.b".c';
  assert.equal(configTableId("a.b.c", has), 'table:"a.b".c');
  assert.equal(configTableId("a.b.c"), 'table:a."b.c"');
  assert.equal(configTableId("app.Settings"), 'table:app."Settings"');
  assert.equal(configColumnId("app.settings", "Key"), 'column:app.settings."Key"');
});
