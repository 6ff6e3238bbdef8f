import assert from "node:assert/strict";
import { test } from "node:test";
import type { Snapshot } from "../catalog/snapshot.ts";
import { diff3 } from "../diff/diff3.ts";
import {
  column,
  dataTable,
  edit,
  shuffled,
  snapshot,
  upsertPolicy,
  view,
} from "../fixtures/builders.ts";
import { divergedShop, shop } from "../fixtures/shop.ts";
import { plan } from "../plan/plan.ts";
import { renderDiffSummary, renderPreview } from "./index.ts";

const base = shop();

function preview(
  b: Snapshot,
  p: Snapshot,
  r: Snapshot,
  migrations?: { name: string; sql: string }[],
) {
  const diff = diff3(b, p, r);
  const planned = plan(diff, { base: b, parent: p, branch: r, migrations });
  return renderPreview({ plan: planned, diff, branch: "feature", parent: "main" });
}

test("a clean merge: header, three sections, each statement under its change, object and hazards", () => {
  const branch = edit(base, {
    add: [column("public.items.qty", "integer", { position: 3, notNull: true, default: "1" })],
  });
  const text = preview(base, base, branch, [{ name: "001.sql", sql: "SELECT 1;" }]);
  assert.equal(
    text,
    [
      '-- bough merge preview: branch "feature" -> parent "main"',
      "-- 2 statement(s): 1 migration, 1 DDL, 0 data; 0 conflict(s)",
      text.split("\n")[2],
      "",
      "-- [MIGRATION]",
      "-- migration migration:001.sql",
      "-- hazards: none",
      "-- note: recorded migration of the branch, replayed verbatim",
      "SELECT 1;",
      "",
      "-- [DDL]",
      "-- create column:public.items.qty",
      "-- hazards: access-exclusive-lock",
      `ALTER TABLE "public"."items" ADD COLUMN "qty" integer DEFAULT 1 NOT NULL;`,
      "",
      "-- [DATA]",
      "-- (nothing)",
      "",
    ].join("\n"),
  );
  assert.match(text.split("\n")[2], /^-- planned against parent schema [0-9a-f]{16}$/);
});

test("a blocked merge starts with the banner and every conflict's three definitions and hint", () => {
  const parent = edit(base, { add: [column("public.orders.total", "bigint", { position: 3 })] });
  const branch = edit(base, {
    add: [
      column("public.orders.total", "numeric", { position: 3 }),
      view("public.skus", " SELECT items.sku\n   FROM public.items;", ["column:public.items.sku"]),
    ],
  });
  const text = preview(base, parent, branch);
  const lines = text.split("\n");
  assert.equal(lines[0], "-- ⚠️ MERGE BLOCKED: 1 conflict(s)");
  assert.ok(lines.includes("-- conflict 1 of 1: both-modified column:public.orders.total (type)"));
  assert.ok(lines.includes(`--   T0: ALTER TABLE "public"."orders" ADD COLUMN "total" integer;`));
  assert.ok(
    lines.includes(`--   parent now: ALTER TABLE "public"."orders" ADD COLUMN "total" bigint;`),
  );
  assert.ok(
    lines.includes(`--   branch now: ALTER TABLE "public"."orders" ADD COLUMN "total" numeric;`),
  );
  assert.ok(
    lines.some((l) => /^-- {3}what to do: .*make the branch match the parent's definition/.test(l)),
  );
  // What would run once resolved is still shown.
  assert.ok(text.includes("nothing runs while blocked"));
  assert.ok(text.includes(`CREATE VIEW "public"."skus" AS`));
});

test("absent sides and multi-line definitions are written out", () => {
  const parent = edit(base, { remove: ["view:public.open_orders"] });
  const branch = edit(base, {
    add: [
      view("public.open_orders", " SELECT orders.id\n   FROM public.orders;", [
        "column:public.orders.id",
      ]),
    ],
  });
  const lines = preview(base, parent, branch).split("\n");
  assert.ok(lines.includes("-- conflict 1 of 1: modify-drop view:public.open_orders"));
  assert.ok(lines.includes("--   parent now: (absent)"));
  const i = lines.indexOf("--   branch now:");
  assert.deepEqual(lines.slice(i + 1, i + 3), [
    `--     CREATE VIEW "public"."open_orders" AS`,
    "--      SELECT orders.id",
  ]);
});

test("secret values appear nowhere in the preview or the summary", () => {
  const world = (value: string, secret: string) => {
    const s = snapshot([], {
      policies: [upsertPolicy("public.settings", ["key"], ["secret"])],
      data: [dataTable("public.settings", ["key"], [{ key: "smtp", value }], ["secret"])],
    });
    s.data["public.settings"].rows['["smtp"]'].secret = secret;
    return s;
  };
  const conflicted = preview(world("a", "pw0"), world("b", "pw1"), world("c", "pw2"));
  const clean = preview(world("a", "pw0"), world("a", "pw1"), world("c", "pw2"));
  const summary = renderDiffSummary(diff3(world("a", "pw0"), world("b", "pw1"), world("c", "pw2")));
  for (const text of [conflicted, clean, summary]) {
    for (const pw of ["pw0", "pw1", "pw2"]) assert.ok(!text.includes(pw), `${pw} leaked`);
  }
  assert.ok(conflicted.includes(`--   parent now:\n--     "key" = 'smtp'\n--     "value" = 'b'\n`));
  assert.ok(
    clean.includes(`INSERT INTO "public"."settings" ("key", "value") VALUES ('smtp', 'c')`),
  );
});

test("rendering is deterministic: twice, and with shuffled input key order, byte for byte", () => {
  const { parent, branch } = divergedShop(base);
  const a = preview(base, parent, branch);
  assert.equal(preview(base, parent, branch), a);
  assert.equal(preview(shuffled(base), shuffled(parent), shuffled(branch)), a);
});

test("the diff summary lists branch, parent and config changes and conflicts", () => {
  const parent = edit(base, { remove: ["column:public.items.sku"] });
  const branch = edit(base, { add: [column("public.items.qty", "integer", { position: 3 })] });
  assert.equal(
    renderDiffSummary(diff3(base, parent, branch)),
    [
      "Schema changes on the branch (1):",
      "  + create column:public.items.qty",
      "Schema changes on the parent since the branch was made (kept) (1):",
      "  - drop column:public.items.sku",
      "Config changes on the branch (0):",
      "  (none)",
      "Config changes on the parent (kept) (0):",
      "  (none)",
      "Conflicts (0):",
      "  (none)",
      "",
    ].join("\n"),
  );
});
