import assert from "node:assert/strict";
import { test } from "node:test";
import type { Snapshot } from "../catalog/snapshot.ts";
import { diff3 } from "../diff/diff3.ts";
import {
  column,
  constraint,
  dataTable,
  edit,
  snapshot,
  table,
  upsertPolicy,
} from "../fixtures/builders.ts";
import { plan } from "./plan.ts";

const schemaObjects = [
  table("public.settings"),
  column("public.settings.key", "text", { position: 1, notNull: true }),
  column("public.settings.value", "text", { position: 2 }),
  column("public.settings.secret", "text", { position: 3 }),
  column("public.settings.len", "integer", {
    position: 4,
    generated: "length(value)",
    generatedKind: "stored",
  }),
  table("public.flags"),
  column("public.flags.name", "text", { position: 1 }),
  column("public.flags.setting", "text", { position: 2 }),
  constraint(
    "public.flags.flags_setting_fkey",
    "f",
    "FOREIGN KEY (setting) REFERENCES public.settings(key)",
    {
      references: "public.settings",
    },
  ),
];
const policies = [
  upsertPolicy("public.settings", ["key"], ["secret"]),
  upsertPolicy("public.flags", ["name"]),
];

function world(
  settings: Record<string, string | null>[],
  flags: Record<string, string | null>[],
): Snapshot {
  return snapshot(schemaObjects, {
    policies,
    data: [
      dataTable("public.settings", ["key"], settings, ["secret"]),
      dataTable("public.flags", ["name"], flags),
    ],
  });
}

const base = world(
  [
    { key: "theme", value: "light", len: "5" },
    { key: "old", value: "x", len: "1" },
  ],
  [{ name: "f_old", setting: "old" }],
);

test("config rows: referenced tables first, their deletes last; values as literals", () => {
  const branch = world(
    [
      { key: "theme", value: "it's dark", len: "9" },
      { key: "new", value: null, len: null },
    ],
    [{ name: "f_new", setting: "new" }],
  );
  const p = plan(diff3(base, base, branch), { base, parent: base, branch });
  assert.deepEqual(
    p.statements.map((s) => [s.layer, s.changeKind, s.sql]),
    [
      [
        "data",
        "row-upsert",
        `INSERT INTO "public"."settings" ("key", "value") VALUES ('new', NULL) ON CONFLICT ("key") DO UPDATE SET "value" = EXCLUDED."value";`,
      ],
      [
        "data",
        "row-upsert",
        `INSERT INTO "public"."settings" ("key", "value") VALUES ('theme', 'it''s dark') ON CONFLICT ("key") DO UPDATE SET "value" = EXCLUDED."value";`,
      ],
      ["data", "row-delete", `DELETE FROM "public"."flags" WHERE "name" = 'f_old';`],
      [
        "data",
        "row-upsert",
        `INSERT INTO "public"."flags" ("name", "setting") VALUES ('f_new', 'new') ON CONFLICT ("name") DO UPDATE SET "setting" = EXCLUDED."setting";`,
      ],
      ["data", "row-delete", `DELETE FROM "public"."settings" WHERE "key" = 'old';`],
    ],
  );
  assert.deepEqual(p.statements[0].hazards, []);
  assert.deepEqual(p.statements[1].hazards, ["overwrites-data"]);
  assert.deepEqual(p.statements[2].hazards, ["deletes-data"]);
  assert.deepEqual(p.statements[4].hazards, ["deletes-data"]);
});

test("secret (excluded) values never reach the SQL, even if a row carries them", () => {
  const branch = world(
    [{ key: "theme", value: "dark", len: "4" }],
    [{ name: "f_old", setting: "old" }],
  );
  branch.data["public.settings"].rows['["theme"]'].secret = "hunter2";
  const p = plan(diff3(base, base, branch), { base, parent: base, branch });
  assert.ok(p.statements.length > 0);
  assert.ok(!JSON.stringify(p).includes("hunter2"));
});

test("merge policy rows are upserted into bough.table_policies", () => {
  const branch = edit(base, {
    policies: [...policies, upsertPolicy("public.plans", ["id", "region"], ["token"])],
  });
  const p = plan(diff3(base, base, branch), { base, parent: base, branch });
  assert.deepEqual(
    p.statements.map((s) => s.sql),
    [
      "INSERT INTO bough.table_policies (table_name, policy, key_columns, excluded_columns) VALUES ('public.plans', 'upsert', ARRAY['id', 'region']::text[], ARRAY['token']::text[]) ON CONFLICT (table_name) DO UPDATE SET policy = EXCLUDED.policy, key_columns = EXCLUDED.key_columns, excluded_columns = EXCLUDED.excluded_columns;",
    ],
  );
});
