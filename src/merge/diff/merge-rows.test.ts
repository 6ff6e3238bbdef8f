import assert from "node:assert/strict";
import { test } from "node:test";
import type { DataTable, Snapshot, TablePolicy } from "../catalog/snapshot.ts";
import { expectedAfterMerge } from "../expected.ts";
import { column, dataTable, snapshot, table } from "../fixtures/builders.ts";
import { plan } from "../plan/plan.ts";
import { renderConflict } from "../render/conflicts.ts";
import { rowChangeLines } from "../render/rows.ts";
import type { Row } from "./changes.ts";
import { diff3 } from "./diff3.ts";
import { resolveConflicts } from "./resolve.ts";

const T = "public.plans";
const policy: TablePolicy = { table: T, policy: "merge-rows", key: ["id"], excluded: [] };
const objects = [
  table(T),
  column(`${T}.id`, "integer", { position: 1, notNull: true }),
  column(`${T}.name`, "text", { position: 2 }),
  column(`${T}.price`, "integer", { position: 3 }),
];
const plans = (rows: Row[], o: Partial<DataTable> = {}): Snapshot =>
  snapshot(objects, { policies: [policy], data: [{ ...dataTable(T, ["id"], rows), ...o }] });
const row = (id: string, name: string, price: string): Row => ({ id, name, price });

const base = [row("1", "Free", "0"), row("2", "Pro", "10"), row("3", "Team", "30")];
const summary = (cs: { type: string; id: string }[]) => cs.map((c) => `${c.type} ${c.id}`);

/** {base, parent, branch, expect}: the diff's changes and conflicts, and the parent's rows after the merge. */
const fixtures: {
  name: string;
  parent: Row[];
  branch: Row[];
  expect: { changes: string[]; conflicts: string[]; after?: Row[] };
}[] = [
  {
    name: "insert, update and delete on the branch only are applied",
    parent: base,
    branch: [row("1", "Free", "0"), row("2", "Pro", "12"), row("4", "Scale", "99")],
    expect: {
      changes: [
        'row-upsert row:public.plans:["2"]',
        'row-delete row:public.plans:["3"]',
        'row-upsert row:public.plans:["4"]',
      ],
      conflicts: [],
      after: [row("1", "Free", "0"), row("2", "Pro", "12"), row("4", "Scale", "99")],
    },
  },
  {
    name: "two different cells of one row changed on each side both merge",
    parent: [row("1", "Free", "0"), row("2", "Professional", "10"), row("3", "Team", "30")],
    branch: [row("1", "Free", "0"), row("2", "Pro", "15"), row("3", "Team", "30")],
    expect: {
      changes: ['row-upsert row:public.plans:["2"]'],
      conflicts: [],
      after: [row("1", "Free", "0"), row("2", "Professional", "15"), row("3", "Team", "30")],
    },
  },
  {
    name: "the same cell set to two values is a conflict",
    parent: [row("1", "Free", "0"), row("2", "Pro", "11"), row("3", "Team", "30")],
    branch: [row("1", "Free", "0"), row("2", "Pro", "15"), row("3", "Team", "35")],
    expect: {
      changes: ['row-upsert row:public.plans:["3"]'],
      conflicts: ['row-conflict row:public.plans:["2"]'],
    },
  },
  {
    name: "deleted on one side and updated on the other is a conflict, both ways",
    parent: [row("1", "Free", "1"), row("2", "Pro", "10")],
    branch: [row("2", "Pro", "10"), row("3", "Teams", "30")],
    expect: {
      changes: [],
      conflicts: ['row-conflict row:public.plans:["1"]', 'row-conflict row:public.plans:["3"]'],
    },
  },
  {
    name: "the same change on both sides, and deletes on both, are nothing",
    parent: [row("1", "Free", "0"), row("2", "Pro", "12")],
    branch: [row("1", "Free", "0"), row("2", "Pro", "12")],
    expect: { changes: [], conflicts: [], after: [row("1", "Free", "0"), row("2", "Pro", "12")] },
  },
];

for (const f of fixtures) {
  test(`merge-rows: ${f.name}`, () => {
    const [b, p, r] = [plans(base), plans(f.parent), plans(f.branch)];
    const d = diff3(b, p, r);
    assert.deepEqual(summary(d.changes), f.expect.changes);
    assert.deepEqual(summary(d.conflicts), f.expect.conflicts);
    if (f.expect.after) {
      const after = expectedAfterMerge(p, d.changes);
      assert.deepEqual(after.data[T].rows, plans(f.expect.after).data[T].rows);
    }
  });
}

test("a cell conflict carries the cells with T0, parent and branch values, and both whole rows", () => {
  const parent = [row("1", "Free", "0"), row("2", "Pro+", "11"), row("3", "Team", "30")];
  const branch = [row("1", "Free", "0"), row("2", "Pro", "15"), row("3", "Team", "30")];
  const d = diff3(plans(base), plans(parent), plans(branch));
  const c = d.conflicts[0];
  assert.ok(c.type === "row-conflict");
  assert.deepEqual(c.cells, [{ column: "price", base: "10", parent: "11", branch: "15" }]);
  assert.deepEqual(c.parent, row("2", "Pro+", "11"));
  assert.deepEqual(c.branch, row("2", "Pro", "15"));
  const text = renderConflict(c, 1, 1).join("\n");
  assert.match(text, /price: T0 '10', parent now '11', branch now '15'/u);
  assert.doesNotMatch(text, /name/u);
});

test("a delete against an update shows both whole rows, no cells", () => {
  const d = diff3(plans(base), plans([row("2", "Pro", "10")]), plans([...base.slice(0, 2)]));
  const c = d.conflicts.find((x) => x.id.endsWith('["1"]'));
  assert.equal(c, undefined, "deleted on the parent, untouched on the branch: the parent's change");
  const d2 = diff3(plans(base), plans([row("1", "Free", "5")]), plans([]));
  const c2 = d2.conflicts.find((x) => x.id.endsWith('["1"]'));
  assert.ok(c2?.type === "row-conflict");
  assert.equal(c2.cells, undefined);
  assert.equal(c2.branch, null);
  assert.match(renderConflict(c2, 1, 1).join("\n"), /branch now: \(absent\)/u);
});

test("a merged row updates only the cells the branch changed; deletes by primary key", () => {
  const parent = [row("1", "Free", "0"), row("2", "Professional", "10"), row("3", "Team", "30")];
  const branch = [row("1", "Free", "0"), row("2", "Pro", "15")];
  const [b, p, r] = [plans(base), plans(parent), plans(branch)];
  const d = diff3(b, p, r);
  const sql = plan(d, { base: b, parent: p, branch: r, migrations: [] }).statements.map(
    (s) => s.sql,
  );
  assert.deepEqual(sql, [
    `DELETE FROM "public"."plans" WHERE "id" = '3';`,
    `INSERT INTO "public"."plans" ("id", "name", "price") VALUES ('2', 'Professional', '15') ON CONFLICT ("id") DO UPDATE SET "price" = EXCLUDED."price";`,
  ]);
});

test("the preview lists row changes in words and counts what it leaves out", () => {
  const many = Array.from({ length: 30 }, (_, i) => row(String(i + 10), `p${i}`, "1"));
  const branch = [row("1", "Free", "0"), row("2", "Pro", "12"), ...many];
  const d = diff3(plans(base), plans(base), plans(branch));
  const lines = rowChangeLines(d.changes, 5);
  assert.equal(lines[0], "-- rows of public.plans: 30 inserted, 1 updated, 1 deleted");
  assert.ok(lines.includes("--   + id = '10': name = 'p0', price = '1'"), lines.join("\n"));
  assert.ok(lines.includes("--   ... and 27 more row change(s) of public.plans"));
  const all = rowChangeLines(d.changes, 100);
  assert.ok(all.includes("--   ~ id = '2': price '10' → '12'"), all.join("\n"));
  assert.ok(all.includes("--   - id = '3'"), all.join("\n"));
});

test("merge-rows is refused without a primary key, over the row limit, or without T0 rows", () => {
  const noPk = plans([], {
    refused: "it has no primary key (merge-rows matches rows by primary key)",
  });
  assert.throws(
    () => diff3(plans(base), plans(base), noPk),
    /cannot merge the rows of public\.plans \(policy merge-rows\): on the branch, it has no primary key/u,
  );
  const big = plans([], { refused: "it has more than 50000 rows" });
  assert.throws(
    () => diff3(plans(base), big, plans(base)),
    /on the parent, it has more than 50000 rows/u,
  );
  const t0 = snapshot(objects);
  assert.throws(() => diff3(t0, plans(base), plans(base)), /rows at T0 are unknown/u);
  // A table created on the branch with its policy had no rows at T0: all are inserts.
  const [empty, branch] = [snapshot([]), plans(base)];
  const d = diff3(empty, empty, branch);
  assert.equal(d.changes.filter((c) => c.type === "row-upsert").length, 3);
  // The policy row goes first, after widening an older bough's CHECK on the parent.
  const data = plan(d, { base: empty, parent: empty, branch, migrations: [] }).statements.filter(
    (s) => s.layer === "data",
  );
  assert.match(
    data[0].sql,
    /^DO \$\$ BEGIN[\s\S]*'merge-rows'\)\);\n {2}END IF;\nEND \$\$;\nINSERT INTO bough\.table_policies/u,
  );
});

test("--take on a cell conflict: the taken side's cells in conflict, the other cells still merged", () => {
  const parent = [row("1", "Free", "0"), row("2", "Pro+", "11"), row("3", "Team", "30")];
  const branch = [row("1", "Free", "0"), row("2", "Pro", "15"), row("3", "Team", "30")];
  const [b, p, r] = [plans(base), plans(parent), plans(branch)];
  const d = diff3(b, p, r);
  const id = 'row:public.plans:["2"]';
  const taken = resolveConflicts(d, [{ id, take: "branch", source: "flag" }], {
    parent: p,
    branch: r,
  });
  assert.deepEqual(taken.diff.conflicts, []);
  const c = taken.diff.changes.find((x) => x.id === id);
  assert.ok(c?.type === "row-upsert");
  // The branch's price wins; main's own rename of the plan stays.
  assert.deepEqual([c.before, c.after], [row("2", "Pro+", "11"), row("2", "Pro+", "15")]);
  const sql = plan(taken.diff, { base: b, parent: p, branch: r, migrations: [] }).statements;
  assert.match(sql[0].sql, /DO UPDATE SET "price" = EXCLUDED\."price";$/u);
  const kept = resolveConflicts(d, [{ id, take: "parent", source: "flag" }], {
    parent: p,
    branch: r,
  });
  assert.deepEqual([kept.diff.conflicts, kept.diff.changes], [[], []]);
});
