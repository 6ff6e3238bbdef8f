import assert from "node:assert/strict";
import { test } from "node:test";
import { linkChanges, ownerKey } from "./links.ts";
import type { DdlEntry } from "./read.ts";

test("ownerKey: the object a change id belongs to", () => {
  for (const [id, key] of [
    ["table:public.orders", "public.orders"],
    ["column:public.orders.note", "public.orders"],
    ['constraint:app."Big.T".pk', 'app."Big.T"'],
    ["index:public.orders_note", "public.orders_note"],
    ["function:public.f(integer, text)", "public.f"],
    ['function:public."f(x"(integer)', 'public."f(x"'],
    ["grant:table:public.orders:anon", "public.orders"],
    ["comment:column:public.orders.note", "public.orders"],
    ["publication_table:pub:public.orders", "public.orders"],
    ["schema:app", "app"],
    ['row:public.flags:["a"]', null],
    ["table_policy:public.flags", null],
  ] as const) {
    assert.equal(ownerKey(id), key, id);
  }
});

test("linkChanges: each change gets the rows whose objects belong to its object, oldest first", () => {
  const entry = (id: number, tag: string, target: string[]): DdlEntry => ({
    id,
    at: "2026-01-01T12:03:00.000Z",
    sessionUser: "postgres",
    currentUser: "alice",
    applicationName: "",
    commandTag: tag,
    statement: `${tag} ...`,
    objects: [
      { action: tag, type: "table", schema: target[0], identity: target.join("."), target },
    ],
  });
  const links = linkChanges(
    [{ id: "column:public.orders.note" }, { id: "index:public.i" }, { id: "table:public.other" }],
    [
      entry(1, "CREATE TABLE", ["public", "orders"]),
      entry(2, "CREATE INDEX", ["public", "i"]),
      entry(3, "ALTER TABLE", ["public", "orders"]),
    ],
  );
  assert.deepEqual(Object.keys(links), ["column:public.orders.note", "index:public.i"]);
  assert.deepEqual(
    links["column:public.orders.note"].map((r) => [r.id, r.actor]),
    [
      [1, "alice"],
      [3, "alice"],
    ],
  );
});
