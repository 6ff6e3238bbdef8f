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
  entry("table:public.t", { kind: "r", owner: "postgres", options: null, ...o });
// Unmodelled and refused: goes with its table (a foreign table's server and options).
const foreign = entry(null, { server: "srv" }, "class:public.t");
const base = fp({ "class:public.t": table() });

test("which fields the snapshot models", () => {
  assert.equal(isModelled("class:public.t", "options"), true);
  assert.equal(isModelled("class:public.t", "owner"), true);
  assert.equal(isModelled("class:public.t", "access_method"), false);
  assert.equal(isModelled("column:public.t.a", "storage"), true);
  assert.equal(isModelled("column:public.t.a", "compression"), false);
  assert.equal(isModelled("foreign_table:public.t", CREATED), false);
  assert.equal(isModelled("rule:public.t.r", "enabled"), true);
  assert.equal(isModelled("statistics:public.s", "statistics_target"), true);
  assert.equal(isModelled("statistics:public.s", "owner"), true);
  assert.equal(isModelled("unknown:x", "a"), false);
});

test("a change the snapshot saw, of modelled fields, is explained; an access method change is not", () => {
  const branch = fp({
    "class:public.t": table({ options: "{fillfactor=70}", owner: "alice", access_method: "am2" }),
  });
  const problems = unexplainedChanges({
    base,
    branch,
    parent: base,
    changedIds: new Set(["table:public.t"]),
  });
  assert.deepEqual(
    problems.map((p) => [p.key, p.fields, p.severity]),
    [["class:public.t", ["access_method"], "refuse"]],
  );
  assert.match(problems[0].message, /bough does not merge table access methods yet/);
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
  const withRule = fp({ "class:public.t": table(), "foreign_table:public.t": foreign });
  assert.deepEqual(
    problemLines(
      unexplainedChanges({ base, branch: withRule, parent: base, changedIds: new Set() }),
    ),
    ["foreign_table:public.t (created on the branch)"],
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
      severity: "refuse",
      message:
        'the merge lost part of the branch\'s change of the identity of column id on public.t: start: "1000" on the branch, "1" after the merge',
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

test("carried: a range type, a rule, statistics and their owner; merged without and said: a comment on an operator, a new column's compression", () => {
  const withRange = fp({
    "class:public.t": table(),
    "range:public.span": entry(
      "range:public.span",
      { subtype: "double precision" },
      "type:public.span",
    ),
  });
  const rangeOnly = { base, branch: withRange, parent: base };
  assert.deepEqual(
    unexplainedChanges({ ...rangeOnly, changedIds: new Set(["range:public.span"]) }),
    [],
  );
  assert.equal(unexplainedChanges({ ...rangeOnly, changedIds: new Set() }).length, 1);
  // Ranges, rules and statistics are modelled, owners too: seen by the snapshot they are carried.
  const stats = (owner: string) =>
    entry("statistics:public.s", { definition: "CREATE STATISTICS ...", owner }, "class:public.t");
  const ruleEntry = entry("rule:public.t.r", { definition: "CREATE RULE r ..." }, "class:public.t");
  const withStats = fp({ "class:public.t": table(), "statistics:public.s": stats("postgres") });
  const carried = unexplainedChanges({
    base,
    branch: fp({ ...withStats.entries, "rule:public.t.r": ruleEntry }),
    parent: base,
    changedIds: new Set(["statistics:public.s", "rule:public.t.r"]),
  });
  assert.deepEqual(carried, []);
  const owned = unexplainedChanges({
    base: withStats,
    branch: fp({ "class:public.t": table(), "statistics:public.s": stats("alice") }),
    parent: withStats,
    changedIds: new Set(["statistics:public.s"]),
  });
  assert.deepEqual(owned, []);
  const note = entry(null, { text: "equal" }, "object:operator public.===(integer,integer)");
  const column = entry("column:public.t.c", { type: "text", compression: "l" }, "class:public.t");
  const branch = fp({
    "class:public.t": table(),
    "comment:object:operator public.===(integer,integer)": note,
    "column:public.t.c": column,
  });
  const o = { base, branch, parent: base, changedIds: new Set(["column:public.t.c"]) };
  const problems = unexplainedChanges(o);
  assert.deepEqual(
    problems.map((p) => [p.key, p.fields, p.severity]),
    [
      ["column:public.t.c", ["compression"], "warn"],
      ["comment:object:operator public.===(integer,integer)", [CREATED], "warn"],
    ],
  );
  assert.match(
    problems[1].message,
    /^the branch created the comment on operator public\.===\(integer,integer\); bough does not merge comments on objects it does not model yet: merged without it/,
  );
  // What is merged without (and said so) is not a loss the rehearsal refuses.
  const rehearsed = fp({
    "class:public.t": table(),
    "column:public.t.c": { ...column, fields: { type: "text", compression: "" } },
  });
  assert.deepEqual(lostChanges({ base, branch, rehearsed }), []);
});

test("an index's replica identity flag is carried by its table's change", () => {
  const index = (flag: string) =>
    entry(
      "index:public.t_u",
      { definition: "CREATE UNIQUE INDEX ...", replica_identity: flag },
      "class:public.t",
    );
  const at = (flag: string, ident: string) =>
    fp({ "class:public.t": table({ replica_identity: ident }), "index:public.t_u": index(flag) });
  const o = { base: at("false", "d"), branch: at("true", "i"), parent: at("false", "d") };
  assert.deepEqual(unexplainedChanges({ ...o, changedIds: new Set(["table:public.t"]) }), []);
  assert.deepEqual(
    unexplainedChanges({ ...o, changedIds: new Set() }).map((p) => [p.key, p.fields]),
    [
      ["class:public.t", ["replica_identity"]],
      ["index:public.t_u", ["replica_identity"]],
    ],
  );
});
