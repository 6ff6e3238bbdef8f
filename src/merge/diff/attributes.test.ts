import assert from "node:assert/strict";
import { test } from "node:test";
import { stableStringify } from "../catalog/equality.ts";
import type { DbObject, Snapshot } from "../catalog/snapshot.ts";
import { expectedAfterMerge } from "../expected.ts";
import {
  column,
  comment,
  edit,
  enumType,
  func,
  grant,
  index,
  policy,
  role,
  schema,
  sequence,
  snapshot,
  table,
  trigger,
  view,
} from "../fixtures/builders.ts";
import { plan } from "../plan/plan.ts";
import { impactOf } from "../render/sql/index.ts";
import { coupled, KIND_ATTRIBUTES, mergeLabels, mergeOptions } from "./attributes.ts";
import type { ObjectConflict } from "./changes.ts";
import { diff3 } from "./diff3.ts";

type Values = Record<string, unknown>;

/**
 * One object per kind split into attributes, and for each attribute two different
 * values it can be changed to (one for a flag). Every attribute of KIND_ATTRIBUTES must
 * be here, so a new attribute is covered by the matrix below.
 */
const SUBJECTS: { subject: DbObject; others: DbObject[]; values: Record<string, Values[]> }[] = [
  {
    subject: column("public.t.c", "text", { deps: ["table:public.t"] }),
    others: [table("public.t")],
    values: {
      type: [{ type: "character varying(20)" }, { type: "character varying(30)" }],
      collation: [{ collation: '"C"' }, { collation: '"POSIX"' }],
      "not null": [{ notNull: true }],
      default: [{ default: "'a'::text" }, { default: "'b'::text" }],
      identity: [
        {
          identity: "always",
          identityOptions: {
            start: "1",
            increment: "1",
            min: "1",
            max: "9",
            cache: "1",
            cycle: false,
          },
        },
        {
          identity: "by-default",
          identityOptions: {
            start: "1",
            increment: "1",
            min: "1",
            max: "9",
            cache: "1",
            cycle: false,
          },
        },
      ],
      generated: [
        { generated: "'x'::text", generatedKind: "stored" },
        { generated: "'y'::text", generatedKind: "stored" },
      ],
      inherited: [{ inherited: true }],
      storage: [{ storage: "main" }, { storage: "external" }],
      "statistics target": [{ statisticsTarget: 50 }, { statisticsTarget: 500 }],
    },
  },
  {
    subject: table("public.t"),
    others: [table("public.p")],
    values: {
      persistence: [{ persistence: "u" }],
      partitioning: [{ partitionBy: "RANGE (id)" }, { partitionBy: "LIST (id)" }],
      "partition of": [
        { partitionOf: { parent: "public.p", bound: "FOR VALUES IN (1)" } },
        { partitionOf: { parent: "public.p", bound: "FOR VALUES IN (2)" } },
      ],
      inherits: [{ inherits: ["public.p"] }, { inherits: ["public.q"] }],
      "row level security": [{ rlsEnabled: true }],
      "forced row level security": [{ rlsForced: true }],
      options: [{ options: ["fillfactor=70"] }, { options: ["fillfactor=80"] }],
      "replica identity": [
        { replicaIdentity: "full" },
        { replicaIdentity: "index", replicaIdentityIndex: "t_u" },
      ],
    },
  },
  {
    subject: view("public.v", " SELECT 1 AS one;", []),
    others: [],
    values: {
      definition: [{ definition: " SELECT 2 AS one;" }, { definition: " SELECT 3 AS one;" }],
      options: [{ options: ["security_barrier=true"] }, { options: ["security_barrier=false"] }],
    },
  },
  {
    subject: {
      ...view("public.m", " SELECT 1 AS one;", []),
      kind: "matview",
      id: "matview:public.m",
    },
    others: [],
    values: {
      definition: [{ definition: " SELECT 2 AS one;" }, { definition: " SELECT 3 AS one;" }],
      options: [{ options: ["fillfactor=70"] }, { options: ["fillfactor=80"] }],
    },
  },
  {
    subject: policy("public.t.p"),
    others: [table("public.t", { rlsEnabled: true })],
    values: {
      permissive: [{ permissive: false }],
      roles: [{ roles: [role("a")] }, { roles: [role("b")] }],
      expressions: [{ using: "(id > 0)" }, { command: "SELECT", using: "(id > 1)" }],
    },
  },
  {
    subject: sequence("public.s"),
    others: [table("public.t"), column("public.t.id", "integer")],
    values: {
      range: [{ max: "1000" }, { dataType: "bigint", max: "9223372036854775807" }],
      start: [{ start: "5" }, { start: "6" }],
      increment: [{ increment: "2" }, { increment: "3" }],
      cache: [{ cache: "10" }, { cache: "20" }],
      cycle: [{ cycle: true }],
      "owned by": [{ ownedBy: "public.t.id" }, { ownedBy: "public.t.other" }],
    },
  },
  {
    subject: {
      kind: "domain",
      id: "domain:public.d",
      deps: ["schema:public"],
      schema: "public",
      name: "d",
      baseType: "integer",
      notNull: false,
      default: null,
      collation: null,
      checks: {},
    },
    others: [],
    values: {
      type: [{ baseType: "bigint" }, { baseType: "numeric" }],
      "not null": [{ notNull: true }],
      default: [{ default: "1" }, { default: "2" }],
      checks: [{ checks: { pos: "CHECK (VALUE > 0)" } }, { checks: { pos: "CHECK (VALUE > 1)" } }],
    },
  },
  {
    subject: trigger("public.t.tr", "public.f"),
    others: [table("public.t"), func("public.f")],
    values: {
      definition: [
        {
          definition:
            "CREATE TRIGGER tr AFTER INSERT ON public.t FOR EACH ROW EXECUTE FUNCTION public.f()",
        },
        {
          definition:
            "CREATE TRIGGER tr BEFORE UPDATE ON public.t FOR EACH ROW EXECUTE FUNCTION public.f()",
        },
      ],
      enabled: [{ enabled: "D" }, { enabled: "A" }],
    },
  },
  {
    subject: {
      kind: "rule",
      id: "rule:public.t.r",
      deps: ["table:public.t"],
      schema: "public",
      table: "t",
      name: "r",
      definition: "CREATE RULE r AS\n    ON INSERT TO public.t DO  NOTIFY t;",
      enabled: "O",
    },
    others: [table("public.t")],
    values: {
      definition: [
        { definition: "CREATE RULE r AS\n    ON UPDATE TO public.t DO  NOTIFY t;" },
        { definition: "CREATE RULE r AS\n    ON DELETE TO public.t DO INSTEAD NOTHING;" },
      ],
      enabled: [{ enabled: "D" }, { enabled: "R" }],
    },
  },
  {
    subject: {
      kind: "statistics",
      id: "statistics:public.s",
      deps: ["schema:public", "table:public.t"],
      schema: "public",
      name: "s",
      relation: "public.t",
      definition: "CREATE STATISTICS public.s ON a, b FROM public.t",
    },
    others: [table("public.t")],
    values: {
      definition: [
        { definition: "CREATE STATISTICS public.s (ndistinct) ON a, b FROM public.t" },
        { definition: "CREATE STATISTICS public.s ON a, c FROM public.t" },
      ],
      "statistics target": [{ statisticsTarget: 100 }, { statisticsTarget: 0 }],
    },
  },
  {
    subject: {
      kind: "event_trigger",
      id: "event_trigger:et",
      deps: [],
      name: "et",
      event: "ddl_command_end",
      tags: [],
      function: "public.g()",
      enabled: "O",
    },
    others: [],
    values: {
      definition: [{ event: "sql_drop" }, { tags: ["CREATE TABLE"] }],
      enabled: [{ enabled: "D" }, { enabled: "A" }],
    },
  },
  {
    subject: {
      kind: "publication",
      id: "publication:pub",
      deps: [],
      name: "pub",
      allTables: false,
      publish: ["insert", "update", "delete", "truncate"],
      viaRoot: false,
    },
    others: [],
    values: {
      "all tables": [{ allTables: true }],
      publish: [{ publish: ["insert"] }, { publish: ["update"] }],
      "via partition root": [{ viaRoot: true }],
    },
  },
  {
    subject: {
      kind: "publication_table",
      id: "publication_table:pub:public.t",
      deps: [],
      publication: "pub",
      schema: "public",
      table: "t",
      columns: null,
      rowFilter: null,
    },
    others: [],
    values: {
      columns: [{ columns: ["id"] }, { columns: ["id", "x"] }],
      "row filter": [{ rowFilter: "(id > 0)" }, { rowFilter: "(id > 1)" }],
    },
  },
  {
    // Privileges merge as a set: no value of one side conflicts with the other's.
    subject: grant("table:public.t", "a", ["SELECT"]),
    others: [table("public.t")],
    values: { privileges: [{ privileges: ["INSERT", "SELECT"] }] },
  },
  {
    // Default privileges merge per grantee like grants.
    subject: {
      kind: "default_privilege",
      id: "default_privilege:owner:public:tables:a",
      deps: ["schema:public"],
      role: "owner",
      schema: "public",
      objects: "tables",
      grantee: { kind: "role", name: "a" },
      privileges: ["SELECT"],
      builtin: [],
    },
    others: [],
    values: { privileges: [{ privileges: ["INSERT", "SELECT"] }] },
  },
  {
    subject: {
      kind: "extension",
      id: "extension:e",
      deps: [],
      name: "e",
      schema: "public",
      version: "1.0",
    },
    others: [schema("other")],
    values: { version: [{ version: "1.1" }, { version: "1.2" }], schema: [{ schema: "other" }] },
  },
];

const conflictsOf = (d: ReturnType<typeof diff3>) =>
  d.conflicts.map((c) => `${c.type} ${c.id} ${(c as ObjectConflict).attributes?.join(",") ?? ""}`);

function snaps(subject: DbObject, others: DbObject[], p: Values, r: Values) {
  const base = snapshot([schema("public"), ...others, subject]);
  const withValues = (v: Values) => edit(base, { add: [{ ...subject, ...v } as DbObject] });
  return { base, parent: withValues(p), branch: withValues(r) };
}

/** The branch's own statements, as if the parent had not changed the object. */
const branchOnly = (s: { base: Snapshot; branch: Snapshot }) =>
  plan(diff3(s.base, s.base, s.branch), { ...s, parent: s.base }).statements.map((x) => x.sql);

test("every attribute of every split kind has fixture values", () => {
  const split = Object.keys(KIND_ATTRIBUTES)
    .filter((k) => k !== "enum")
    .sort();
  assert.deepEqual(SUBJECTS.map((s) => s.subject.kind).sort(), split);
  for (const s of SUBJECTS) {
    const spec = KIND_ATTRIBUTES[s.subject.kind];
    assert.deepEqual(Object.keys(s.values), Object.keys(spec?.attributes ?? {}), s.subject.kind);
  }
});

for (const { subject, others, values } of SUBJECTS) {
  const names = Object.keys(values);
  for (const a of names) {
    for (const b of names) {
      if (a === b) continue;
      const both = coupled(subject.kind, a, b);
      test(`${subject.kind}: ${a} on the parent, ${b} on the branch → ${both ? "conflict (coupled)" : "merged"}`, () => {
        const s = snaps(subject, others, values[a][0], values[b][0]);
        const d = diff3(s.base, s.parent, s.branch);
        if (both) {
          assert.equal(d.conflicts.length, 1, conflictsOf(d).join("\n"));
          const c = d.conflicts[0] as ObjectConflict;
          assert.ok(c.attributes?.includes(a) && c.attributes.includes(b), conflictsOf(d)[0]);
          return;
        }
        assert.deepEqual(conflictsOf(d), []);
        const merged = { ...subject, ...values[a][0], ...values[b][0] };
        const after = expectedAfterMerge(s.parent, d.changes).objects[subject.id];
        const { deps: _d, ...want } = merged;
        const { deps: _e, ...got } = after;
        assert.equal(stableStringify(got), stableStringify(want));
        // The plan changes only what the branch changed: the statements it would run alone.
        const parentNow = s.parent.objects[subject.id];
        if (
          impactOf(parentNow, after) === "in-place" &&
          impactOf(s.base.objects[subject.id], s.branch.objects[subject.id]) === "in-place"
        ) {
          const p = plan(d, s).statements.map((x) => x.sql);
          assert.deepEqual(p, branchOnly(s));
        }
      });
    }
    if (values[a].length < 2) continue;
    test(`${subject.kind}: ${a} changed differently on both sides → conflict naming ${a}`, () => {
      const s = snaps(subject, others, values[a][0], values[a][1]);
      const d = diff3(s.base, s.parent, s.branch);
      assert.deepEqual(conflictsOf(d), [`both-modified ${subject.id} ${a}`]);
      assert.match(d.conflicts[0].hint, new RegExp(`the ${a} of this object`));
      assert.deepEqual(d.changes, []);
    });
  }
}

test("column: default on the branch, NOT NULL on the parent → SET DEFAULT only", () => {
  const s = snaps(
    column("public.t.c", "integer"),
    [table("public.t")],
    { notNull: true },
    { default: "5" },
  );
  const d = diff3(s.base, s.parent, s.branch);
  assert.deepEqual(
    plan(d, s).statements.map((x) => x.sql),
    ['ALTER TABLE "public"."t" ALTER COLUMN "c" SET DEFAULT 5;'],
  );
});

test("an atomic kind (a function's definition) changed on both sides conflicts as its definition", () => {
  const f = func("public.f", { returns: "integer", body: "SELECT 1" });
  const s = snaps(
    f,
    [],
    { definition: `${f.definition}--a` },
    { definition: `${f.definition}--b` },
  );
  const d = diff3(s.base, s.parent, s.branch);
  assert.deepEqual(conflictsOf(d), ["both-modified function:public.f() definition"]);
  assert.match(d.conflicts[0].hint, /changed the definition of this object differently/);
});

test("the owner of any kind is an attribute of its own: one side's owner merges with the other's change; two owners conflict", () => {
  const f = func("public.f", { returns: "integer", body: "SELECT 1" });
  const merged = snaps(f, [], { owner: "alice" }, { definition: `${f.definition}--b` });
  const d = diff3(merged.base, merged.parent, merged.branch);
  assert.deepEqual(d.conflicts, []);
  const sql = plan(d, merged).statements.map((x) => x.sql);
  // The parent's owner is kept: the branch's body replaces the function, no OWNER TO.
  assert.ok(sql.includes(`${f.definition}--b;`), sql.join("\n"));
  assert.ok(!sql.some((x) => x.includes("OWNER TO")), sql.join("\n"));
  const t = table("public.t");
  const owned = snaps(t, [], { rlsEnabled: true }, { owner: "bob" });
  assert.deepEqual(
    plan(diff3(owned.base, owned.parent, owned.branch), owned).statements.map((x) => x.sql),
    ['ALTER TABLE "public"."t" OWNER TO "bob";'],
  );
  const both = snaps(f, [], { owner: "alice" }, { owner: "bob" });
  assert.deepEqual(conflictsOf(diff3(both.base, both.parent, both.branch)), [
    "both-modified function:public.f() owner",
  ]);
  const bothAndBody = snaps(
    f,
    [],
    { owner: "alice", definition: `${f.definition}--a` },
    {
      owner: "bob",
      definition: `${f.definition}--b`,
    },
  );
  assert.deepEqual(conflictsOf(diff3(bothAndBody.base, bothAndBody.parent, bothAndBody.branch)), [
    "both-modified function:public.f() definition,owner",
  ]);
});

/**
 * Objects of their own attached to another (comments, grants) merge with any change of
 * that object on the other side: a new definition keeps them, a rebuild recreates them.
 */
test("a definition on one side and the object's comment or grant on the other merge", () => {
  const t = table("public.t");
  const cases: { name: string; base: DbObject[]; def: DbObject; extras: DbObject[] }[] = [
    {
      name: "function body",
      base: [func("public.f", { returns: "integer", body: "SELECT 1" })],
      def: func("public.f", { returns: "integer", body: "SELECT 2" }),
      extras: [
        comment("function:public.f()", "doc"),
        grant("function:public.f()", "a", ["EXECUTE"], "function"),
      ],
    },
    {
      name: "view definition",
      base: [view("public.v", " SELECT 1 AS one;", [])],
      def: view("public.v", " SELECT 2 AS one;", []),
      extras: [comment("view:public.v", "doc"), grant("view:public.v", "a", ["SELECT"])],
    },
    {
      name: "index definition",
      base: [
        t,
        column("public.t.x", "integer"),
        index("public.i", "public.t", "CREATE INDEX i ON public.t USING btree (id)"),
      ],
      def: index("public.i", "public.t", "CREATE INDEX i ON public.t USING btree (x)"),
      extras: [comment("index:public.i", "doc")],
    },
    {
      name: "table row level security",
      base: [t],
      def: table("public.t", { rlsEnabled: true }),
      extras: [comment("table:public.t", "doc"), grant("table:public.t", "a", ["SELECT"])],
    },
  ];
  for (const c of cases) {
    for (const extra of c.extras) {
      const base = snapshot([schema("public"), ...c.base]);
      for (const [p, r] of [
        [extra, c.def],
        [c.def, extra],
      ]) {
        const parent = edit(base, { add: [p] });
        const branch = edit(base, { add: [r] });
        const d = diff3(base, parent, branch);
        assert.deepEqual(conflictsOf(d), [], `${c.name} vs ${extra.id}`);
        assert.deepEqual(
          d.changes.map((x) => x.id),
          [r.id],
          `${c.name} vs ${extra.id}`,
        );
      }
    }
  }
});

test("a comment on an object the other side dropped still conflicts", () => {
  const base = snapshot([schema("public"), view("public.v", " SELECT 1 AS one;", [])]);
  const parent = edit(base, { remove: ["view:public.v"] });
  const branch = edit(base, { add: [comment("view:public.v", "doc")] });
  assert.deepEqual(conflictsOf(diff3(base, parent, branch)), ["dependency comment:view:public.v "]);
});

test("enum labels of both sides: the parent's first in each slot", () => {
  const cases: [string[], string[], string[], string[] | null][] = [
    [
      ["a", "c"],
      ["a", "x", "c"],
      ["a", "y", "c"],
      ["a", "x", "y", "c"],
    ],
    [
      ["a", "c"],
      ["a", "c", "x"],
      ["y", "a", "c"],
      ["y", "a", "c", "x"],
    ],
    [
      ["a", "c"],
      ["x", "a", "c"],
      ["y", "a", "c"],
      ["x", "y", "a", "c"],
    ],
    [
      ["a", "c"],
      ["a", "x", "c"],
      ["a", "y", "x", "c"],
      ["a", "y", "x", "c"],
    ],
    [
      ["a", "c"],
      ["a", "x", "c", "z"],
      ["a", "x", "c", "w"],
      ["a", "x", "c", "z", "w"],
    ],
    [[], ["x"], ["y"], ["x", "y"]],
    // The same new label in two places.
    [["a", "c"], ["a", "x", "c"], ["a", "c", "x"], null],
    // Two labels both add, in other orders.
    [["a"], ["a", "x", "y"], ["a", "y", "x"], null],
    // Removed, renamed (removed + added) or reordered on one side.
    [["a", "c"], ["a"], ["a", "y", "c"], null],
    [["a", "c"], ["a", "cc"], ["a", "y", "c"], null],
    [["a", "c"], ["c", "a"], ["a", "y", "c"], null],
  ];
  for (const [b, p, r, want] of cases) {
    assert.deepEqual(mergeLabels(b, p, r), want, `${b} / ${p} / ${r}`);
  }
});

test("enum labels of both sides merge into ADD VALUE statements that reproduce the order", () => {
  const e = enumType("public.e", ["a", "c"]);
  const base = snapshot([schema("public"), e]);
  const parent = edit(base, { add: [enumType("public.e", ["x", "a", "c"])] });
  const branch = edit(base, { add: [enumType("public.e", ["y", "a", "b", "c", "z"])] });
  const d = diff3(base, parent, branch);
  assert.deepEqual(d.conflicts, []);
  assert.deepEqual(
    plan(d, { base, parent, branch }).statements.map((x) => x.sql),
    [
      `ALTER TYPE "public"."e" ADD VALUE 'y' AFTER 'x';`,
      `ALTER TYPE "public"."e" ADD VALUE 'b' AFTER 'a';`,
      `ALTER TYPE "public"."e" ADD VALUE 'z' AFTER 'c';`,
    ],
  );
  const renamed = edit(base, { add: [enumType("public.e", ["a", "cc"])] });
  const c = diff3(base, parent, renamed);
  assert.deepEqual(conflictsOf(c), ["both-modified enum:public.e labels"]);
});

test("options merge by name; grants merge their privileges as sets", () => {
  assert.deepEqual(mergeOptions(["a=1"], ["a=1", "b=2"], ["c=3"]), ["b=2", "c=3"]);
  assert.deepEqual(mergeOptions(["a=1"], ["a=2"], ["a=1", "b=1"]), ["a=2", "b=1"]);
  assert.equal(mergeOptions(["a=1"], ["a=2"], ["a=3"]), null);
  const t = table("public.t");
  const base = snapshot([schema("public"), t, grant("table:public.t", "a", ["SELECT"])]);
  const parent = edit(base, { add: [grant("table:public.t", "a", ["SELECT*", "UPDATE"])] });
  const branch = edit(base, { add: [grant("table:public.t", "a", ["INSERT", "SELECT"])] });
  const d = diff3(base, parent, branch);
  assert.deepEqual(d.conflicts, []);
  const g = expectedAfterMerge(parent, d.changes).objects["grant:table:public.t:a"];
  assert.deepEqual(g?.kind === "grant" && g.privileges, ["INSERT", "SELECT*", "UPDATE"]);
  const granted = edit(base, { add: [grant("table:public.t", "a", ["UPDATE"])] });
  const created = diff3(edit(base, { remove: ["grant:table:public.t:a"] }), granted, branch);
  assert.deepEqual(created.conflicts, []);
  const both = expectedAfterMerge(granted, created.changes).objects["grant:table:public.t:a"];
  assert.deepEqual(both?.kind === "grant" && both.privileges, ["INSERT", "SELECT", "UPDATE"]);
  const options = diff3(
    edit(base, { add: [table("public.t", { options: [] })] }),
    edit(base, { add: [table("public.t", { options: ["fillfactor=70"] })] }),
    edit(base, { add: [table("public.t", { options: ["autovacuum_enabled=false"] })] }),
  );
  assert.deepEqual(options.conflicts, []);
  assert.deepEqual(
    options.changes.map((c) => c.type === "alter" && c.after.kind === "table" && c.after.options),
    [["autovacuum_enabled=false", "fillfactor=70"]],
  );
});
