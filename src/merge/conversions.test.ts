import assert from "node:assert/strict";
import { test } from "node:test";
import { carriedConversions, typeChangesIn } from "./conversions.ts";
import { diff3 } from "./diff/diff3.ts";
import { column, constraint, edit, snapshot, table } from "./fixtures/builders.ts";
import { plan } from "./plan/plan.ts";

test("USING expressions are cut out of ALTER TABLE text by Postgres' parser, one per retyped column", async () => {
  const sql = `CREATE TABLE x (a int);
ALTER TABLE public.ev ALTER COLUMN at TYPE timestamptz USING to_timestamp(at),
  ALTER b SET DATA TYPE text USING (b + 1)::text, ADD CONSTRAINT c EXCLUDE USING gist (a WITH =);
ALTER TABLE ev ALTER c TYPE bigint`;
  assert.deepEqual(await typeChangesIn(sql), [
    { schema: "public", table: "ev", column: "at", using: "to_timestamp(at)" },
    { schema: "public", table: "ev", column: "b", using: "(b + 1)::text" },
    { schema: null, table: "ev", column: "c", using: null },
  ]);
  assert.deepEqual(await typeChangesIn("ALTER TABLE ev ALTER at TYPE (broken"), []);
});

test("the last type change of a column in the branch's DDL decides what is carried", async () => {
  const parent = snapshot([table("public.ev"), column("public.ev.at", "integer")]);
  const branch = edit(parent, { add: [column("public.ev.at", "timestamp with time zone")] });
  const { changes } = diff3(parent, parent, branch);
  const src = (sql: string, label: string) => ({ sql, label, schema: "public" });
  const using = "ALTER TABLE ev ALTER at TYPE timestamptz USING to_timestamp(at)";
  assert.deepEqual(await carriedConversions(changes, [src(using, "DDL log #3")]), {
    "column:public.ev.at": { using: "to_timestamp(at)", source: "DDL log #3" },
  });
  const later = "ALTER TABLE ev ALTER at TYPE timestamptz";
  assert.deepEqual(await carriedConversions(changes, [src(using, "#3"), src(later, "#4")]), {});
  const d = diff3(parent, parent, branch);
  const p = plan(d, {
    base: parent,
    parent,
    branch,
    conversions: await carriedConversions(changes, [src(using, "DDL log #3")]),
  });
  assert.equal(
    p.statements[0].sql,
    'ALTER TABLE "public"."ev" ALTER COLUMN "at" TYPE timestamp with time zone USING (to_timestamp(at));',
  );
  assert.match(p.statements[0].notes.join(), /USING as the branch ran it \(DDL log #3\)/);
});

test("a foreign key whose two ends both change type is dropped before both and added after", () => {
  const fk = constraint("public.o.o_uid_fkey", "f", "FOREIGN KEY (uid) REFERENCES public.u(id)", {
    references: "public.u",
  });
  fk.deps.push("column:public.o.uid", "column:public.u.id");
  const parent = snapshot([
    table("public.u"),
    column("public.u.id", "integer"),
    table("public.o"),
    column("public.o.uid", "integer"),
    fk,
  ]);
  const branch = edit(parent, {
    add: [column("public.u.id", "text"), column("public.o.uid", "text")],
  });
  const sql = plan(diff3(parent, parent, branch), { base: parent, parent, branch }).statements.map(
    (s) => s.sql,
  );
  const at = (re: RegExp) => sql.findIndex((s) => re.test(s));
  const drop = at(/DROP CONSTRAINT "o_uid_fkey"/);
  const add = at(/ADD CONSTRAINT "o_uid_fkey"/);
  assert.ok(drop >= 0 && add > drop, sql.join("\n"));
  for (const col of [/"uid" TYPE text/, /"id" TYPE text/]) {
    assert.ok(at(col) > drop && at(col) < add, sql.join("\n"));
  }
  // One end only: Postgres rebuilds the key itself, nothing is added around it.
  const one = edit(parent, { add: [column("public.o.uid", "bigint")] });
  const single = plan(diff3(parent, parent, one), { base: parent, parent, branch: one });
  assert.equal(single.statements.filter((s) => /CONSTRAINT/.test(s.sql)).length, 0);
});
