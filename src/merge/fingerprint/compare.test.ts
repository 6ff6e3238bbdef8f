import assert from "node:assert/strict";
import { test } from "node:test";
import { CREATED, DROPPED, lostChanges, problemLines, unexplainedChanges } from "./compare.ts";
import { isModelled } from "./modelled.ts";
import type { Fingerprint, FingerprintEntry } from "./types.ts";

const fp = (entries: Record<string, FingerprintEntry>): Fingerprint => ({
  version: 1,
  serverVersion: 180000,
  entries,
});
const entry = (
  sid: string | null,
  fields: Record<string, string | null>,
  on: string | null = null,
): FingerprintEntry => ({ sid, on, fields });

const table = (o: Record<string, string> = {}) =>
  entry("table:public.t", { owner: "postgres", options: null, ...o });
const rule = entry(null, { definition: "CREATE RULE r AS ..." }, "class:public.t");
const base = fp({ "class:public.t": table() });

test("which fields the snapshot models", () => {
  assert.equal(isModelled("class:public.t", "options"), true);
  assert.equal(isModelled("class:public.t", "owner"), false);
  assert.equal(isModelled("column:public.t.a", "storage"), true);
  assert.equal(isModelled("column:public.t.a", "compression"), false);
  assert.equal(isModelled("rule:public.t.r", CREATED), false);
  assert.equal(isModelled("unknown:x", "a"), false);
});

test("a change the snapshot saw, of modelled fields, is explained; an owner change is not", () => {
  const branch = fp({ "class:public.t": table({ options: "{fillfactor=70}", owner: "alice" }) });
  const problems = unexplainedChanges({
    base,
    branch,
    parent: base,
    changedIds: new Set(["table:public.t"]),
  });
  assert.deepEqual(problems, [
    {
      key: "class:public.t",
      fields: ["owner"],
      details: ['owner: "alice" on the branch, "postgres" at the merge base'],
    },
  ]);
  const optionsOnly = fp({ "class:public.t": table({ options: "{fillfactor=70}" }) });
  assert.deepEqual(
    unexplainedChanges({
      base,
      branch: optionsOnly,
      parent: base,
      changedIds: new Set(["table:public.t"]),
    }),
    [],
  );
  // The same change with no snapshot change behind it (a snapshot gap) is unexplained.
  assert.equal(
    unexplainedChanges({ base, branch: optionsOnly, parent: base, changedIds: new Set() }).length,
    1,
  );
});

test("what the parent already has, and what goes with a dropped table, needs nothing", () => {
  const withRule = fp({ "class:public.t": table(), "rule:public.t.r": rule });
  assert.deepEqual(
    problemLines(
      unexplainedChanges({ base, branch: withRule, parent: base, changedIds: new Set() }),
    ),
    ["rule:public.t.r (created on the branch)"],
  );
  assert.deepEqual(
    unexplainedChanges({ base, branch: withRule, parent: withRule, changedIds: new Set() }),
    [],
  );
  assert.deepEqual(
    unexplainedChanges({
      base: withRule,
      branch: fp({}),
      parent: withRule,
      changedIds: new Set(["table:public.t"]),
    }),
    [],
  );
  const ruleDropped = unexplainedChanges({
    base: withRule,
    branch: base,
    parent: withRule,
    changedIds: new Set(),
  });
  assert.deepEqual(ruleDropped[0].fields, [DROPPED]);
});

test("a table become a view under the same name is a new object: its fields need no model", () => {
  const view = fp({
    "class:public.t": entry("view:public.t", { owner: "postgres", access_method: null }),
  });
  const tableBase = fp({ "class:public.t": table({ access_method: "heap" }) });
  const o = { base: tableBase, branch: view, parent: tableBase };
  assert.deepEqual(unexplainedChanges({ ...o, changedIds: new Set(["view:public.t"]) }), []);
  assert.equal(unexplainedChanges({ ...o, changedIds: new Set() }).length, 1);
  assert.deepEqual(lostChanges({ base: tableBase, branch: view, rehearsed: view }), []);
});

test("the rehearsed parent must carry every field the branch changed, and created entries whole", () => {
  const branch = fp({
    "class:public.t": table({ options: "{fillfactor=70}" }),
    "identity:public.t.id": entry("column:public.t.id", { start: "1000", increment: "1" }),
  });
  const rehearsed = fp({
    "class:public.t": table({ options: "{fillfactor=70}", owner: "bob" }),
    "identity:public.t.id": entry("column:public.t.id", { start: "1", increment: "1" }),
  });
  assert.deepEqual(lostChanges({ base, branch, rehearsed }), [
    {
      key: "identity:public.t.id",
      fields: ["start"],
      details: ['start: "1000" on the branch, "1" after the merge'],
    },
  ]);
  assert.deepEqual(lostChanges({ base, branch, rehearsed: branch }), []);
  const dropped = lostChanges({ base: branch, branch: base, rehearsed: branch });
  assert.deepEqual(
    dropped.map((p) => [p.key, p.fields]),
    [
      ["class:public.t", ["options"]],
      ["identity:public.t.id", [DROPPED]],
    ],
  );
});
