import assert from "node:assert/strict";
import { test } from "node:test";
import type { Snapshot } from "../catalog/snapshot.ts";
import { dataTable, edit, snapshot, upsertPolicy } from "../fixtures/builders.ts";
import { diff3 } from "./diff3.ts";

const policy = upsertPolicy("public.settings", ["key"], ["secret"]);
const rows = (...r: Record<string, string | null>[]) =>
  dataTable("public.settings", ["key"], r, ["secret"]);
const withRows = (...r: Record<string, string | null>[]): Snapshot =>
  snapshot([], { policies: [policy], data: [rows(...r)] });

const base = withRows(
  { key: "theme", value: "light" },
  { key: "lang", value: "en" },
  { key: "tz", value: "UTC" },
);
const summary = (cs: { type: string; id: string }[]) => cs.map((c) => `${c.type} ${c.id}`);

test("config rows changed on the branch only become upserts and deletes by key", () => {
  const branch = withRows(
    { key: "theme", value: "dark" },
    { key: "tz", value: "UTC" },
    { key: "beta", value: "on" },
  );
  const d = diff3(base, base, branch);
  assert.deepEqual(summary(d.changes), [
    'row-upsert row:public.settings:["beta"]',
    'row-delete row:public.settings:["lang"]',
    'row-upsert row:public.settings:["theme"]',
  ]);
  const theme = d.changes.find((c) => c.id.endsWith('["theme"]'));
  assert.ok(theme?.type === "row-upsert");
  assert.deepEqual(theme.before, { key: "theme", value: "light" });
  assert.deepEqual(theme.after, { key: "theme", value: "dark" });
});

test("a row changed on both sides differently is a row conflict; the same change is nothing", () => {
  const parent = withRows(
    { key: "theme", value: "blue" },
    { key: "lang", value: "fr" },
    { key: "tz", value: "UTC" },
  );
  const branch = withRows(
    { key: "theme", value: "dark" },
    { key: "lang", value: "fr" },
    { key: "tz", value: "UTC" },
  );
  const d = diff3(base, parent, branch);
  assert.deepEqual(summary(d.conflicts), ['row-conflict row:public.settings:["theme"]']);
  assert.deepEqual(d.changes, []);
  const c = d.conflicts[0];
  assert.ok(c.type === "row-conflict");
  assert.deepEqual([c.base?.value, c.parent?.value, c.branch?.value], ["light", "blue", "dark"]);
});

test("a row deleted on the branch and changed on the parent conflicts", () => {
  const parent = withRows(
    { key: "theme", value: "light" },
    { key: "lang", value: "de" },
    { key: "tz", value: "UTC" },
  );
  const branch = withRows({ key: "theme", value: "light" }, { key: "tz", value: "UTC" });
  assert.deepEqual(summary(diff3(base, parent, branch).conflicts), [
    'row-conflict row:public.settings:["lang"]',
  ]);
});

test("excluded (secret) columns never appear in changes or conflicts, even if a snapshot carries them", () => {
  const leaky = (value: string, secret: string): Snapshot => {
    const s = withRows({ key: "smtp", value });
    s.data["public.settings"].rows['["smtp"]'].secret = secret;
    return s;
  };
  const d = diff3(leaky("a", "s0"), leaky("b", "s1"), leaky("c", "s2"));
  const text = JSON.stringify(d);
  for (const s of ["s0", "s1", "s2"]) assert.ok(!text.includes(s), `secret ${s} leaked`);
  assert.equal(d.conflicts.length, 1);
});

test("a table without rows on the branch (policy not upsert there) changes no rows", () => {
  const branch = snapshot([], { policies: [{ ...policy, policy: "ignore" }] });
  const d = diff3(base, base, branch);
  assert.deepEqual(summary(d.changes), ["policy-set table_policy:public.settings"]);
});

test("merge policies are compared three ways too", () => {
  const parent = edit(base, { policies: [{ ...policy, excluded: ["secret", "token"] }] });
  const branch = edit(base, { policies: [{ ...policy, key: ["key", "scope"] }] });
  assert.deepEqual(summary(diff3(base, parent, branch).conflicts), [
    "policy-conflict table_policy:public.settings",
  ]);
  const removed = diff3(base, base, edit(base, { policies: [] }));
  assert.deepEqual(summary(removed.changes), ["policy-delete table_policy:public.settings"]);
});

test("rows the parent changed are listed as parent changes, never applied", () => {
  const parent = withRows({ key: "theme", value: "light" }, { key: "lang", value: "en" });
  const d = diff3(base, parent, base);
  assert.deepEqual(d.changes, []);
  assert.deepEqual(summary(d.parentChanges), ['row-delete row:public.settings:["tz"]']);
});
