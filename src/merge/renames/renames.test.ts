import assert from "node:assert/strict";
import { test } from "node:test";
import type { BoughError } from "../../core/errors.ts";
import type { DbObject } from "../catalog/snapshot.ts";
import { diff3 } from "../diff/diff3.ts";
import { column, constraint, edit, snapshot, table, view } from "../fixtures/builders.ts";
import { plan } from "../plan/plan.ts";
import { renameBase, replaceName } from "./base.ts";
import { checkRenameHints, parseRenameHint, renameHintText, renameSql } from "./hints.ts";
import { suggestionLines, suggestRenames } from "./suggest.ts";

test("hints parse, print back and render their SQL; quoted names keep their dots and equals signs", () => {
  const t = parseRenameHint("table:public.a=public.b");
  assert.deepEqual(t, {
    kind: "table",
    schema: "public",
    name: "a",
    toSchema: "public",
    toName: "b",
  });
  assert.equal(renameHintText(t), "table:public.a=public.b");
  assert.deepEqual(renameSql(t), ['ALTER TABLE "public"."a" RENAME TO "b";']);
  const moved = parseRenameHint('table:public."Old=x"=app.b');
  assert.deepEqual(renameSql(moved), [
    'ALTER TABLE "public"."Old=x" RENAME TO "b";',
    'ALTER TABLE "public"."b" SET SCHEMA "app";',
  ]);
  const c = parseRenameHint("column:public.orders.sku=code");
  assert.equal(renameHintText(c), "column:public.orders.sku=code");
  assert.deepEqual(renameSql(c), ['ALTER TABLE "public"."orders" RENAME COLUMN "sku" TO "code";']);
  for (const bad of [
    "table:public.a",
    "view:public.a=public.b",
    "column:public.t.a=x.y",
    "table:a=b",
    "table:public.a=public.a",
  ])
    assert.throws(
      () => parseRenameHint(bad),
      (e: BoughError) => e.code === "INVALID_INPUT",
      bad,
    );
});

test("a hint is refused unless the target has the old name, not the new one, and the source has the new one", () => {
  const target = snapshot([table("public.a"), column("public.a.x", "text")]);
  const source = snapshot([table("public.b"), column("public.b.x", "text")]);
  const names = { target, source, targetName: "main", sourceName: "feature" };
  checkRenameHints([parseRenameHint("table:public.a=public.b")], names);
  // A later hint sees the names the earlier ones gave.
  const renamedSource = snapshot([table("public.b"), column("public.b.y", "text")]);
  checkRenameHints(
    [parseRenameHint("table:public.a=public.b"), parseRenameHint("column:public.b.x=y")],
    { ...names, source: renamedSource },
  );
  assert.throws(
    () => checkRenameHints([parseRenameHint("table:public.nope=public.b")], names),
    /"main" has no table:public\.nope/,
  );
  assert.throws(
    () => checkRenameHints([parseRenameHint("table:public.a=public.c")], names),
    /"feature" has no table:public\.c/,
  );
});

test("names are replaced whole, never inside longer names or string literals", () => {
  assert.equal(
    replaceName("CHECK ((sku <> 'sku'::text) AND (t.sku > skus))", "sku", "code"),
    "CHECK ((code <> 'sku'::text) AND (t.code > skus))",
  );
  assert.equal(
    replaceName("FOREIGN KEY (a_id) REFERENCES public.a(id)", "public.a", "public.b"),
    "FOREIGN KEY (a_id) REFERENCES public.b(id)",
  );
});

test("the base is renamed too: an object the target did not change comes as Postgres rewrote it, a change of the target stays a change", () => {
  const base = snapshot([
    table("public.a"),
    column("public.a.id", "integer"),
    column("public.a.x", "text"),
    view("public.v", " SELECT x\n   FROM public.a;", ["table:public.a"]),
    constraint("public.o.o_a_fkey", "f", "FOREIGN KEY (a_id) REFERENCES public.a(id)", {
      references: "public.a",
    }),
  ]);
  // The parent changed x's default since the base; the rename rewrote the view as Postgres does.
  const before = edit(base, { add: [column("public.a.x", "text", { default: "'p'::text" })] });
  const after = snapshot([
    table("public.b"),
    column("public.b.id", "integer"),
    column("public.b.x", "text", { default: "'p'::text" }),
    view("public.v", " SELECT x\n   FROM public.b a;", ["table:public.b"]),
    constraint("public.o.o_a_fkey", "f", "FOREIGN KEY (a_id) REFERENCES public.b(id)", {
      references: "public.b",
    }),
  ]);
  const hints = [parseRenameHint("table:public.a=public.b")];
  const renamed = renameBase({ base, before, after, hints });
  assert.deepEqual(Object.keys(renamed.objects), [
    "column:public.b.id",
    "column:public.b.x",
    "constraint:public.o.o_a_fkey",
    "table:public.b",
    "view:public.v",
  ]);
  assert.equal(
    (renamed.objects["view:public.v"] as { definition: string }).definition,
    " SELECT x\n   FROM public.b a;",
  );
  assert.equal((renamed.objects["column:public.b.x"] as { default: string | null }).default, null);
  assert.deepEqual(renamed.objects["column:public.b.x"].deps, ["table:public.b"]);
  // The branch recreated b from scratch with the base's x: the parent's default is kept, nothing else changes.
  const branch = snapshot([
    table("public.b"),
    column("public.b.id", "integer"),
    column("public.b.x", "text"),
    column("public.b.note", "text"),
    view("public.v", " SELECT x\n   FROM public.b a;", ["table:public.b"]),
    constraint("public.o.o_a_fkey", "f", "FOREIGN KEY (a_id) REFERENCES public.b(id)", {
      references: "public.b",
    }),
  ]);
  const d = diff3(renamed, after, branch);
  assert.deepEqual(d.conflicts, []);
  assert.deepEqual(
    d.changes.map((c) => `${c.type} ${c.id}`),
    ["create column:public.b.note"],
  );
  const p = plan(d, { base: renamed, parent: after, branch, renames: hints });
  assert.deepEqual(
    p.statements.map((s) => s.sql),
    ['ALTER TABLE "public"."a" RENAME TO "b";', 'ALTER TABLE "public"."b" ADD COLUMN "note" text;'],
  );
});

test("the detector flags a dropped table + a created one with the same columns, and a dropped + added column of one type", () => {
  const parent = snapshot([
    table("public.a"),
    column("public.a.id", "integer"),
    column("public.a.x", "text"),
    table("public.t"),
    column("public.t.sku", "text"),
    column("public.t.n", "integer"),
  ]);
  const branch = snapshot([
    table("public.b"),
    column("public.b.id", "integer"),
    column("public.b.x", "text"),
    table("public.t"),
    column("public.t.code", "text"),
    column("public.t.n", "integer"),
  ]);
  const d = diff3(parent, parent, branch);
  const s = suggestRenames(d, { parent, branch });
  assert.deepEqual(
    s.map((x) => x.flag),
    ["--rename column:public.t.sku=code", "--rename table:public.a=public.b"],
  );
  assert.match(
    suggestionLines(s).join("\n"),
    /LOOKS LIKE A RENAME[\s\S]*table:public\.a dropped, table:public\.b created/,
  );
  // Different types or different columns: no suggestion.
  const other = edit(branch, {
    add: [column("public.t.code", "integer"), column("public.b.x", "integer")],
  });
  assert.deepEqual(suggestRenames(diff3(parent, parent, other), { parent, branch: other }), []);
});

test("a renamed table's or column's rules and statistics follow it, their definitions rewritten", () => {
  const rule: DbObject = {
    kind: "rule",
    id: "rule:public.a.r",
    deps: ["table:public.a", "column:public.a.x"],
    schema: "public",
    table: "a",
    name: "r",
    definition: "CREATE RULE r AS\n    ON UPDATE TO public.a DO  NOTIFY a;",
    enabled: "D",
  };
  const stats: DbObject = {
    kind: "statistics",
    id: "statistics:public.s",
    deps: ["column:public.a.x", "schema:public", "table:public.a"],
    schema: "public",
    name: "s",
    relation: "public.a",
    definition: "CREATE STATISTICS public.s ON id, x FROM public.a",
  };
  const base = snapshot([
    table("public.a"),
    column("public.a.id", "integer"),
    column("public.a.x", "text"),
    rule,
    stats,
  ]);
  // The target changed both since the base: they are renamed field by field.
  const before = edit(base, {
    add: [
      { ...rule, enabled: "O" },
      { ...stats, statisticsTarget: 5 },
    ],
  });
  const hints = [
    parseRenameHint("table:public.a=public.b"),
    parseRenameHint("column:public.b.x=y"),
  ];
  const renamed = renameBase({ base, before, after: before, hints });
  assert.deepEqual(renamed.objects["rule:public.b.r"], {
    ...rule,
    id: "rule:public.b.r",
    table: "b",
    deps: ["table:public.b", "column:public.b.y"],
    definition: "CREATE RULE r AS\n    ON UPDATE TO public.b DO  NOTIFY a;",
  });
  assert.deepEqual(renamed.objects["statistics:public.s"], {
    ...stats,
    relation: "public.b",
    deps: ["column:public.b.y", "schema:public", "table:public.b"],
    definition: "CREATE STATISTICS public.s ON id, y FROM public.b",
  });
});
