import assert from "node:assert/strict";
import { test } from "node:test";
import { stableStringify } from "../catalog/equality.ts";
import type { ColumnObject, RuleObject } from "../catalog/snapshot.ts";
import {
  collation,
  column,
  constraint,
  edit,
  shuffled,
  table,
  view,
} from "../fixtures/builders.ts";
import { divergedShop, shop } from "../fixtures/shop.ts";
import { diff3 } from "./diff3.ts";

const base = shop();
const types = (d: ReturnType<typeof diff3>) => d.conflicts.map((c) => `${c.type} ${c.id}`);

/** The parent dropped table items, with its columns and foreign key. */
const withoutItems = () =>
  edit(base, {
    remove: [
      "table:public.items",
      "column:public.items.order_id",
      "column:public.items.sku",
      "constraint:public.items.items_order_id_fkey",
    ],
  });

test("a change made on the branch only is a change to apply", () => {
  const branch = edit(base, { add: [column("public.orders.note", "text", { position: 4 })] });
  const d = diff3(base, base, branch);
  assert.deepEqual(
    d.changes.map((c) => `${c.type} ${c.id}`),
    ["create column:public.orders.note"],
  );
  assert.deepEqual(d.conflicts, []);
  assert.deepEqual(d.parentChanges, []);
});

test("a change made on the parent only is kept: listed, never applied", () => {
  const parent = edit(base, { remove: ["column:public.items.sku"] });
  const d = diff3(base, parent, base);
  assert.deepEqual(d.changes, []);
  assert.deepEqual(
    d.parentChanges.map((c) => `${c.type} ${c.id}`),
    ["drop column:public.items.sku"],
  );
});

test("the same change on both sides is nothing to do", () => {
  const both = edit(base, { add: [column("public.orders.total", "bigint", { position: 3 })] });
  const d = diff3(base, both, structuredClone(both));
  assert.deepEqual(d.changes, []);
  assert.deepEqual(d.conflicts, []);
});

test("different changes to one object conflict, with all three definitions and a hint", () => {
  const parent = edit(base, { add: [column("public.orders.total", "bigint", { position: 3 })] });
  const branch = edit(base, { add: [column("public.orders.total", "numeric", { position: 3 })] });
  const d = diff3(base, parent, branch);
  assert.deepEqual(types(d), ["both-modified column:public.orders.total"]);
  const c = d.conflicts[0];
  assert.ok(c.type === "both-modified");
  assert.equal(c.base?.kind === "column" && c.base.type, "integer");
  assert.equal(c.parent?.kind === "column" && c.parent.type, "bigint");
  assert.equal(c.branch?.kind === "column" && c.branch.type, "numeric");
  assert.match(c.hint, /make the branch match the parent's definition.*reset the branch/);
  assert.deepEqual(d.changes, []);
});

test("an object created on both sides differently conflicts as both-created", () => {
  const parent = edit(base, { add: [column("public.orders.note", "text", { position: 4 })] });
  const branch = edit(base, {
    add: [column("public.orders.note", "varchar(20)", { position: 4 })],
  });
  assert.deepEqual(types(diff3(base, parent, branch)), ["both-created column:public.orders.note"]);
});

test("dropped on one side, changed on the other: modify-drop, both ways", () => {
  const changed = edit(base, { add: [column("public.items.sku", "varchar(40)", { position: 2 })] });
  const dropped = edit(base, { remove: ["column:public.items.sku"] });
  const parentDropped = diff3(base, dropped, changed);
  assert.deepEqual(types(parentDropped), ["modify-drop column:public.items.sku"]);
  assert.match(parentDropped.conflicts[0].hint, /parent dropped/);
  const branchDropped = diff3(base, changed, dropped);
  assert.deepEqual(types(branchDropped), ["modify-drop column:public.items.sku"]);
  assert.match(branchDropped.conflicts[0].hint, /branch dropped/);
});

test("a branch foreign key to a table the parent dropped is a dependency conflict", () => {
  const parent = withoutItems();
  const fk = constraint(
    "public.refunds.refunds_item_fkey",
    "f",
    "FOREIGN KEY (sku) REFERENCES public.items(sku)",
    {
      references: "public.items",
    },
  );
  const branch = edit(base, {
    add: [table("public.refunds"), column("public.refunds.sku", "text"), fk],
  });
  const d = diff3(base, parent, branch);
  const dep = d.conflicts.filter((c) => c.type === "dependency");
  assert.deepEqual(
    dep.map((c) => (c.type === "dependency" ? `${c.id} -> ${c.dependsOn}` : "")),
    ["constraint:public.refunds.refunds_item_fkey -> table:public.items"],
  );
  assert.ok(dep[0].type === "dependency" && dep[0].reader === "branch" && dep[0].parent === null);
  // The rest of the branch's work is still a change.
  assert.ok(d.changes.some((c) => c.id === "table:public.refunds"));
  assert.ok(!d.changes.some((c) => c.id === fk.id));
});

test("a branch view on a column the parent retyped conflicts; on a column the parent added, it does not", () => {
  const parent = edit(base, {
    add: [
      column("public.orders.total", "numeric", { position: 3 }),
      column("public.orders.paid_at", "timestamptz", { position: 4 }),
    ],
  });
  const v = view("public.totals", " SELECT orders.total\n   FROM public.orders;", [
    "column:public.orders.total",
  ]);
  const d = diff3(base, parent, edit(base, { add: [v] }));
  assert.deepEqual(types(d), ["dependency view:public.totals"]);
  const ok = view("public.ids", " SELECT orders.id\n   FROM public.orders;", [
    "table:public.orders",
    "column:public.orders.id",
  ]);
  const clean = diff3(base, parent, edit(base, { add: [ok] }));
  assert.deepEqual(clean.conflicts, []);
  assert.deepEqual(
    clean.changes.map((c) => c.id),
    ["view:public.ids"],
  );
});

test("a parent view on a column the branch drops blocks the drop", () => {
  const pv = view("public.skus", " SELECT items.sku\n   FROM public.items;", [
    "column:public.items.sku",
  ]);
  const d = diff3(
    base,
    edit(base, { add: [pv] }),
    edit(base, { remove: ["column:public.items.sku"] }),
  );
  assert.deepEqual(types(d), ["dependency view:public.skus"]);
  const c = d.conflicts[0];
  assert.ok(
    c.type === "dependency" && c.reader === "parent" && c.dependsOn === "column:public.items.sku",
  );
  assert.deepEqual(d.changes, []);
});

test("a parent change that breaks nothing (a new default) does not block a branch view on the column", () => {
  const parent = edit(base, {
    add: [column("public.orders.total", "integer", { position: 3, default: "0" })],
  });
  const v = view("public.totals", " SELECT orders.total\n   FROM public.orders;", [
    "column:public.orders.total",
  ]);
  assert.deepEqual(diff3(base, parent, edit(base, { add: [v] })).conflicts, []);
});

test("the result does not depend on key order in the inputs", () => {
  const { parent, branch } = divergedShop(base);
  const a = diff3(base, parent, branch);
  const b = diff3(shuffled(base), shuffled(parent), shuffled(branch));
  assert.equal(stableStringify(b), stableStringify(a));
  assert.equal(a.conflicts.length, 1);
});

test("a branch change needing a dropped table's column and key is reported once, as the table", () => {
  const parent = withoutItems();
  const v = view("public.skus", " SELECT items.sku\n   FROM public.items;", [
    "table:public.items",
    "column:public.items.sku",
  ]);
  const d = diff3(base, parent, edit(base, { add: [v] }));
  assert.deepEqual(
    d.conflicts.map((c) => (c.type === "dependency" ? c.dependsOn : c.id)),
    ["table:public.items"],
  );
});

test("a branch column on a collation the parent dropped or changed conflicts", () => {
  const numeric = collation("public.numeric", { locale: "en-u-kn-true" });
  const t0 = edit(base, { add: [numeric] });
  const branch = edit(t0, {
    add: [
      column("public.items.sku", "text", {
        position: 2,
        collation: "public.numeric",
        deps: ["table:public.items", "collation:public.numeric"],
      }),
    ],
  });
  const dropped = edit(t0, { remove: ["collation:public.numeric"] });
  assert.deepEqual(types(diff3(t0, dropped, branch)), ["dependency column:public.items.sku"]);
  const changed = edit(t0, { add: [{ ...numeric, locale: "de-u-kn-true" }] });
  assert.deepEqual(types(diff3(t0, changed, branch)), ["dependency column:public.items.sku"]);
  // Changing a collation no branch change reads is the parent's business.
  assert.deepEqual(
    types(
      diff3(
        t0,
        changed,
        edit(t0, { add: [column("public.orders.note", "text", { position: 4 })] }),
      ),
    ),
    [],
  );
});

test("a rule read by its definition: disabled on one side, its column retyped on the other, merges; a new definition conflicts", () => {
  const rule = (o: Partial<RuleObject> = {}): RuleObject => ({
    kind: "rule",
    id: "rule:public.orders.r",
    deps: ["column:public.orders.id", "table:public.orders"],
    schema: "public",
    table: "orders",
    name: "r",
    definition: "CREATE RULE r AS\n    ON DELETE TO public.orders DO  NOTIFY orders;",
    enabled: "O",
    ...o,
  });
  const withRule = edit(base, { add: [rule()] });
  const id = base.objects["column:public.orders.id"] as ColumnObject;
  const retyped = edit(withRule, { add: [{ ...id, type: "bigint" }] });
  const disabled = edit(withRule, { add: [rule({ enabled: "D" })] });
  assert.deepEqual(types(diff3(withRule, retyped, disabled)), []);
  assert.deepEqual(types(diff3(withRule, disabled, retyped)), []);
  const redefined = edit(withRule, {
    add: [
      rule({ definition: "CREATE RULE r AS\n    ON DELETE TO public.orders DO INSTEAD NOTHING;" }),
    ],
  });
  assert.deepEqual(types(diff3(withRule, retyped, redefined)), ["dependency rule:public.orders.r"]);
});
