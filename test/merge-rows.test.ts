import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { mergeBranch } from "../src/branches/merge.ts";
import { tablePolicyList, tablePolicySet } from "../src/branches/table-policies.ts";
import { bough } from "./helpers/cli.ts";
import { type TestHome, testHome } from "./helpers/project.ts";
import { query, rows } from "./helpers/sql.ts";

const SCHEMA = `
CREATE TABLE plans (id int PRIMARY KEY, name text NOT NULL, price int);
INSERT INTO plans VALUES (1, 'Free', 0), (2, 'Pro', 10), (3, 'Team', 30);
CREATE TABLE countries (code text PRIMARY KEY, name text);
INSERT INTO countries VALUES ('fr', 'France');
CREATE TABLE tags (label text);`;

const plansOf = async (url: string) =>
  (await rows<{ id: number; name: string; price: number }>(url, "SELECT * FROM plans ORDER BY id"))
    .map((r) => `${r.id} ${r.name} ${r.price}`)
    .join(", ");

describe("merge-rows: reference tables merged row by row, cell by cell, on real clusters", () => {
  // Set-up in process (no CLI start-up cost); what a user sees through the real CLI.
  let t: TestHome;
  let main: string;
  const cli = (args: string[]) => bough(t.home, ["--project", "p", ...args]);
  const on = { project: "p", branch: "main" };

  before(async () => {
    t = await testHome();
    main = await t.project("p");
    await query(main, SCHEMA);
  });
  after(() => t.dispose());

  test("opt in: the CLI takes the primary key and refuses a table without one; plain SQL works too", async () => {
    // As a database of an older bough has it: the CLI widens the CHECK before inserting.
    await query(
      main,
      "ALTER TABLE bough.table_policies DROP CONSTRAINT table_policies_policy_check, ADD CONSTRAINT table_policies_policy_check CHECK (policy IN ('ignore', 'upsert'))",
    );
    const set = await cli([
      "--json",
      "table-policy",
      "set",
      "plans",
      "merge-rows",
      "--branch",
      "main",
    ]);
    assert.equal(set.code, 0, set.stderr);
    const policy = JSON.parse(set.stdout) as { table: string; key: string[]; policy: string };
    assert.deepEqual(policy, {
      table: "public.plans",
      policy: "merge-rows",
      key: ["id"],
      excluded: [],
    });
    await assert.rejects(
      tablePolicySet(t.ctx, { ...on, table: "public.tags", policy: "merge-rows" }),
      /cannot set merge-rows on public\.tags: it has no primary key/u,
    );
    await query(
      main,
      "INSERT INTO bough.table_policies VALUES ('public.countries', 'merge-rows', '{code}', '{}')",
    );
    const list = await tablePolicyList(t.ctx, on);
    const mine = list.filter((p) => p.table.startsWith("public."));
    assert.deepEqual(
      mine.map((p) => `${p.table} ${p.policy}`),
      ["public.countries merge-rows", "public.plans merge-rows"],
    );
  });

  test("the branch's inserts, updates and deletes reach main; main's own edits of other cells stay", async () => {
    const b1 = await t.branch("p", "b1");
    await query(
      b1,
      `UPDATE plans SET price = 15 WHERE id = 2; INSERT INTO plans VALUES (4, 'Scale', 99); DELETE FROM plans WHERE id = 3; INSERT INTO countries VALUES ('de', 'Germany');
       CREATE TABLE flags (name text PRIMARY KEY, enabled boolean NOT NULL);
       INSERT INTO flags VALUES ('beta', true);
       INSERT INTO bough.table_policies VALUES ('public.flags', 'merge-rows', '{}', '{}')`,
    );
    await query(
      main,
      "UPDATE plans SET name = 'Professional' WHERE id = 2; UPDATE plans SET name = 'Gratis' WHERE id = 1",
    );
    const dry = await cli(["branch", "merge", "b1", "--dry-run"]);
    assert.equal(dry.code, 0, dry.stderr);
    for (const line of [
      "-- rows of public.plans: 1 inserted, 1 updated, 1 deleted",
      "--   ~ id = '2': price '10' → '15'",
      "--   + id = '4': name = 'Scale', price = '99'",
      "--   - id = '3'",
      "-- rows of public.countries: 1 inserted, 0 updated, 0 deleted",
      `DELETE FROM "public"."plans" WHERE "id" = '3';`,
    ])
      assert.ok(dry.stdout.includes(line), `${line}\n${dry.stdout}`);
    assert.match(dry.stdout, /ON CONFLICT \("id"\) DO UPDATE SET "price" = EXCLUDED\."price";/u);
    assert.equal(
      await plansOf(main),
      "1 Gratis 0, 2 Professional 10, 3 Team 30",
      "dry run changes nothing",
    );
    // A row delete is data loss: under -y (no preview seen) it must be accepted explicitly.
    const merged = await cli(["-y", "branch", "merge", "b1", "--accept-data-loss"]);
    assert.equal(merged.code, 0, merged.stderr);
    assert.equal(await plansOf(main), "1 Gratis 0, 2 Professional 15, 4 Scale 99");
    const countries = await rows<{ code: string }>(
      main,
      "SELECT code FROM countries ORDER BY code",
    );
    assert.deepEqual(
      countries.map((c) => c.code),
      ["de", "fr"],
    );
    // A reference table new on the branch arrives with its policy and its rows.
    assert.deepEqual(await rows(main, "SELECT * FROM flags"), [{ name: "beta", enabled: true }]);
  });

  test("the same cell changed on both sides blocks with its three values; main is unchanged", async () => {
    const b2 = await t.branch("p", "b2");
    await query(b2, "UPDATE plans SET price = 20, name = 'Pro 2' WHERE id = 2");
    await query(main, "UPDATE plans SET price = 25 WHERE id = 2");
    const r = await cli(["-y", "branch", "merge", "b2"]);
    assert.notEqual(r.code, 0);
    assert.match(r.stdout, /MERGE BLOCKED: 1 conflict/u);
    assert.match(r.stdout, /row-conflict row:public\.plans:\["2"\]/u);
    assert.match(r.stdout, /price: T0 '15', parent now '25', branch now '20'/u);
    assert.doesNotMatch(r.stdout, /name: T0/u, "a cell only the branch changed is no conflict");
    assert.equal(await plansOf(main), "1 Gratis 0, 2 Professional 25, 4 Scale 99");

    // A merge-rows policy set by SQL on a table without a primary key is refused at merge time.
    await query(
      b2,
      "UPDATE plans SET price = 25 WHERE id = 2; INSERT INTO bough.table_policies VALUES ('public.tags', 'merge-rows', '{}', '{}')",
    );
    await assert.rejects(
      mergeBranch(t.ctx, { project: "p", name: "b2", dryRun: true }),
      /cannot merge the rows of public\.tags \(policy merge-rows\): on the branch, it has no primary key/u,
    );
  });
});
