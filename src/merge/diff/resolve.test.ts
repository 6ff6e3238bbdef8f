import assert from "node:assert/strict";
import { test } from "node:test";
import { column, constraint, dataTable, edit, table, upsertPolicy } from "../fixtures/builders.ts";
import { shop } from "../fixtures/shop.ts";
import { diff3 } from "./diff3.ts";
import { conflictDigest, type Resolution, resolveConflicts } from "./resolve.ts";

const base = shop();
const parent = edit(base, { add: [column("public.orders.total", "bigint", { position: 3 })] });
const branch = edit(base, { add: [column("public.orders.total", "numeric", { position: 3 })] });
const flag = (id: string, take: "branch" | "parent"): Resolution => ({ id, take, source: "flag" });
const TOTAL = "column:public.orders.total";

test("taking the branch's side turns the conflict into the change from the parent's version", () => {
  const d = diff3(base, parent, branch);
  const r = resolveConflicts(d, [flag(TOTAL, "branch")], { parent, branch });
  assert.deepEqual(r.diff.conflicts, []);
  const ch = r.diff.changes.find((c) => c.id === TOTAL);
  assert.ok(ch?.type === "alter");
  assert.equal(ch.before.kind === "column" && ch.before.type, "bigint");
  assert.equal(ch.after.kind === "column" && ch.after.type, "numeric");
  assert.deepEqual(r.resolved, [
    { id: TOTAL, type: "both-modified", take: "branch", source: "flag", changes: [TOTAL] },
  ]);
});

test("taking the parent's side applies nothing for that object and keeps the rest", () => {
  const both = edit(branch, { add: [column("public.orders.note", "text", { position: 4 })] });
  const d = diff3(base, parent, both);
  const r = resolveConflicts(d, [flag(TOTAL, "parent")], { parent, branch: both });
  assert.deepEqual(r.diff.conflicts, []);
  assert.deepEqual(
    r.diff.changes.map((c) => c.id),
    ["column:public.orders.note"],
  );
  assert.deepEqual(r.resolved[0].changes, []);
});

test("a recorded resolution holds only for the conflict it was made for", () => {
  const d = diff3(base, parent, branch);
  const digest = conflictDigest(d, TOTAL);
  const ok = resolveConflicts(d, [{ id: TOTAL, take: "branch", digest, source: "recorded" }], {
    parent,
    branch,
  });
  assert.deepEqual(ok.diff.conflicts, []);
  assert.deepEqual(ok.stale, []);
  // The branch changed the column again: the old decision is not applied to a new conflict.
  const again = edit(base, { add: [column("public.orders.total", "text", { position: 3 })] });
  const d2 = diff3(base, parent, again);
  const stale = resolveConflicts(d2, [{ id: TOTAL, take: "branch", digest, source: "recorded" }], {
    parent,
    branch: again,
  });
  assert.equal(stale.diff.conflicts.length, 1);
  assert.equal(stale.stale.length, 1);
  // A flag given now overrides what was recorded.
  const flagged = resolveConflicts(
    d2,
    [{ id: TOTAL, take: "branch", digest, source: "recorded" }, flag(TOTAL, "parent")],
    { parent, branch: again },
  );
  assert.deepEqual(flagged.diff.conflicts, []);
  assert.equal(flagged.resolved[0].take, "parent");
});

test("modify-drop: the branch's side drops or re-creates, as the branch has it", () => {
  const changed = edit(base, { add: [column("public.items.sku", "varchar(40)", { position: 2 })] });
  const dropped = edit(base, { remove: ["column:public.items.sku"] });
  const id = "column:public.items.sku";
  const branchDropped = resolveConflicts(diff3(base, changed, dropped), [flag(id, "branch")], {
    parent: changed,
    branch: dropped,
  });
  assert.equal(branchDropped.diff.changes.find((c) => c.id === id)?.type, "drop");
  const parentDropped = resolveConflicts(diff3(base, dropped, changed), [flag(id, "branch")], {
    parent: dropped,
    branch: changed,
  });
  assert.equal(parentDropped.diff.changes.find((c) => c.id === id)?.type, "create");
});

test("a dependency conflict taken for the branch applies the branch's reading change", () => {
  const withoutItems = edit(base, {
    remove: [
      "table:public.items",
      "column:public.items.order_id",
      "column:public.items.sku",
      "constraint:public.items.items_order_id_fkey",
    ],
  });
  const fk = constraint(
    "public.refunds.refunds_item_fkey",
    "f",
    "FOREIGN KEY (sku) REFERENCES public.items(sku)",
    { references: "public.items" },
  );
  const withFk = edit(base, {
    add: [table("public.refunds"), column("public.refunds.sku", "text"), fk],
  });
  const d = diff3(base, withoutItems, withFk);
  assert.equal(d.conflicts.length, 1);
  const taken = resolveConflicts(d, [flag(fk.id, "branch")], {
    parent: withoutItems,
    branch: withFk,
  });
  assert.ok(taken.diff.changes.some((c) => c.id === fk.id));
  const dropped = resolveConflicts(d, [flag(fk.id, "parent")], {
    parent: withoutItems,
    branch: withFk,
  });
  assert.ok(!dropped.diff.changes.some((c) => c.id === fk.id));
  assert.deepEqual(dropped.diff.conflicts, []);
});

test("a config row changed on both sides: the branch's row is upserted by its key", () => {
  const rows = (plan: string) => [dataTable("public.plans", ["id"], [{ id: "1", name: plan }])];
  const policies = [upsertPolicy("public.plans", ["id"])];
  const b = edit(base, { data: rows("free"), policies });
  const p = edit(base, { data: rows("basic"), policies });
  const r = edit(base, { data: rows("starter"), policies });
  const d = diff3(b, p, r);
  assert.equal(d.conflicts.length, 1);
  const res = resolveConflicts(d, [flag(d.conflicts[0].id, "branch")], { parent: p, branch: r });
  const ch = res.diff.changes[0];
  assert.ok(ch.type === "row-upsert");
  assert.deepEqual(ch.keyColumns, ["id"]);
  assert.equal(ch.after.name, "starter");
  assert.equal(ch.before?.name, "basic");
});

test("an attribute conflict settled either way keeps the other attributes both sides changed", () => {
  const note = (o: { default?: string | null; notNull?: boolean }) =>
    column("public.orders.note", "text", { position: 4, ...o });
  const b = edit(base, { add: [note({})] });
  const p = edit(base, { add: [note({ default: "'p'::text", notNull: true })] });
  const r = edit(base, { add: [note({ default: "'r'::text" })] });
  const d = diff3(b, p, r);
  const c = d.conflicts[0];
  assert.ok(c.type === "both-modified");
  assert.deepEqual(c.attributes, ["default"]);
  const branch = resolveConflicts(d, [flag(c.id, "branch")], { parent: p, branch: r });
  const ch = branch.diff.changes.find((x) => x.id === c.id);
  assert.ok(ch?.type === "alter" && ch.after.kind === "column");
  assert.equal(ch.after.default, "'r'::text");
  assert.equal(ch.after.notNull, true, "the parent's NOT NULL is kept");
  // The parent's side: its default stays, and the branch changed nothing else.
  const parent = resolveConflicts(d, [flag(c.id, "parent")], { parent: p, branch: r });
  assert.deepEqual(parent.diff.changes, []);
  assert.deepEqual(parent.diff.conflicts, []);
});

test("two owners of an unsplit kind (a table's row, a function) resolve with --take, keeping the other side's changes", () => {
  const orders = base.objects["table:public.orders"];
  const p = edit(base, { add: [{ ...orders, owner: "alice" }] });
  const r = edit(base, { add: [{ ...orders, owner: "bob", rlsEnabled: true } as typeof orders] });
  const d = diff3(base, p, r);
  assert.deepEqual(
    d.conflicts.map((c) => c.type === "both-modified" && c.attributes),
    [["owner"]],
  );
  const took = resolveConflicts(d, [flag("table:public.orders", "branch")], {
    parent: p,
    branch: r,
  });
  assert.deepEqual(took.diff.conflicts, []);
  const ch = took.diff.changes.find((c) => c.id === "table:public.orders");
  assert.ok(ch?.type === "alter" && ch.after.kind === "table");
  assert.equal(ch.after.owner, "bob");
  assert.equal(ch.after.rlsEnabled, true);
});
