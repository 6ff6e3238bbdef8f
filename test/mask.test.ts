import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { listBranchInfos } from "../src/branches/list.ts";
import { maskSet, maskUnset } from "../src/branches/mask.ts";
import { resetBranch } from "../src/branches/reset.ts";
import { withClient } from "../src/branches/sql.ts";
import type { BoughError } from "../src/core/errors.ts";
import { insertUser } from "../src/platform/auth/users.ts";
import { bough, boughJson } from "./helpers/cli.ts";
import { filesContaining } from "./helpers/files.ts";
import { type TestHome, testHome } from "./helpers/project.ts";
import { query, rows } from "./helpers/sql.ts";

// In every original value (lowercase: emails are compared lowercased), nowhere else.
const MARK = "q7zmark";

const PARENT_SQL = `
CREATE SCHEMA app;
CREATE TABLE app.people (
  id int PRIMARY KEY,
  email text NOT NULL UNIQUE,
  full_name text,
  phone varchar(20),
  ssn text,
  notes text,
  tier text,
  card text,
  nickname text,
  age int
);
INSERT INTO app.people
SELECT g, 'person' || g || '.${MARK}@corp.test', 'Zeb ${MARK} ' || g, '+44${MARK}' || g,
       'ssn-${MARK}-' || g, repeat('long note ${MARK} ', 20), 'gold-${MARK}', '4111${MARK}' || lpad(g::text, 4, '0'),
       'nick-${MARK}-' || g, 20 + g
  FROM generate_series(1, 30) g;
CREATE TABLE app.orders (id serial PRIMARY KEY, email text NOT NULL REFERENCES app.people (email), total int);
INSERT INTO app.orders (email, total) SELECT email, id * 10 FROM app.people WHERE id % 3 = 0;
CREATE TABLE app.subscribers (email text);
INSERT INTO app.subscribers SELECT email FROM app.people WHERE id <= 5;
CREATE MATERIALIZED VIEW app.people_mv AS SELECT id, email, full_name FROM app.people;
CREATE INDEX people_mv_email ON app.people_mv (email);
ANALYZE;
`;

const RULES: [string, string][] = [
  ["app.people.email", "email"],
  ["app.people.full_name", "name"],
  ["app.people.phone", "phone"],
  ["app.people.ssn", "hash"],
  ["app.people.notes", "null"],
  ["app.people.tier", "fixed:'standard'"],
  ["app.people.card", "partial(2,'*',2)"],
  ["app.people.nickname", "sql:'nick-' || left({{hash}}, 8)"],
  ["app.orders.email", "email"],
  ["app.subscribers.email", "email"],
];

// Every user table and the auth data, as text: no original value may show in any of it.
const EVERYTHING = `SELECT
  (SELECT string_agg(p::text, ' ') FROM app.people p) AS people,
  (SELECT string_agg(o::text, ' ') FROM app.orders o) AS orders,
  (SELECT string_agg(s::text, ' ') FROM app.subscribers s) AS subscribers,
  (SELECT string_agg(m::text, ' ') FROM app.people_mv m) AS matview,
  (SELECT string_agg(u::text, ' ') FROM auth.users u) AS users,
  (SELECT string_agg(i::text, ' ') FROM auth.identities i) AS identities,
  (SELECT string_agg(o::text, ' ') FROM email.outbox o) AS outbox,
  (SELECT string_agg(s::text, ' ') FROM pg_stats s WHERE schemaname IN ('app', 'auth')) AS stats`;

/** Reads the unique index on app.people(email) alone: an index-only scan, checked in the plan. */
async function emailsFromIndex(url: string): Promise<string[]> {
  return withClient(url, async (c) => {
    await c.query("SET enable_seqscan = off; SET enable_bitmapscan = off");
    const sql = "SELECT email FROM app.people WHERE email > '' ORDER BY email";
    const plan = (await c.query(`EXPLAIN ${sql}`)).rows.map((r) => r["QUERY PLAN"]).join("\n");
    assert.match(plan, /Index Only Scan using people_email_key/);
    return (await c.query<{ email: string }>(sql)).rows.map((r) => r.email);
  });
}

// CLI for the contract (mask set, mask list, branch create --mask, exit codes), in-process
// calls for the rest: one project, one masked branch.
describe("masked branches", () => {
  let h: TestHome;
  let home: string;
  let mainUrl: string;
  let url: string;
  const on = { project: "shop", branch: "main" };

  before(async () => {
    h = await testHome();
    home = h.home;
    mainUrl = await h.project("shop");
    await query(mainUrl, PARENT_SQL);
    await withClient(mainUrl, async (c) => {
      for (const n of [1, 2]) {
        await insertUser(c, {
          email: `person${n}.${MARK}@corp.test`,
          passwordHash: null,
          confirmed: true,
          userMetadata: { full_name: `Zeb ${MARK} ${n}`, email: `person${n}.${MARK}@corp.test` },
        });
      }
      await c.query(
        `INSERT INTO email.outbox (to_address, template, subject, body)
         VALUES ('person1.${MARK}@corp.test', 'signup', 'Welcome', 'Hello person1.${MARK}@corp.test')`,
      );
    });
    const [[firstColumn, firstRule], ...rest] = RULES;
    const first = await boughJson<{ warnings: string[] }>(home, [
      "--project",
      "shop",
      "mask",
      "set",
      firstColumn,
      firstRule,
    ]);
    // Said at once, refused at create until both sides of the key have the rule.
    assert.deepEqual(first.warnings, [
      "foreign key orders_email_fkey: app.orders.email is not masked but app.people.email is email",
    ]);
    for (const [column, rule] of rest) await maskSet(h.ctx, { ...on, column, rule });
    const created = await boughJson<{ connectionString: string; masked: boolean }>(home, [
      "--project",
      "shop",
      "branch",
      "create",
      "anon",
      "--mask",
      "--no-switch",
    ]);
    assert.equal(created.masked, true);
    url = created.connectionString;
  });
  after(async () => h?.dispose());

  test("mask list shows the rules; the parent keeps its original values", async () => {
    const list = await boughJson<{ column: string; rule: string }[]>(home, [
      "--project",
      "shop",
      "mask",
      "list",
    ]);
    assert.deepEqual(
      list.map((r) => [r.column, r.rule]),
      [...RULES].sort(([a], [b]) => (a < b ? -1 : 1)),
    );
    const [all] = await rows<Record<string, string>>(mainUrl, EVERYTHING);
    for (const k of [
      "people",
      "orders",
      "subscribers",
      "matview",
      "users",
      "identities",
      "outbox",
      "stats",
    ]) {
      assert.ok(all[k]?.includes(MARK), `${k} on main keeps its values`);
    }
    assert.ok((await emailsFromIndex(mainUrl)).every((e) => e.includes(MARK)));
  });

  test("every rule gives its fake, deterministic across tables; the foreign key still joins", async () => {
    const people = await rows<Record<string, string | number | null>>(
      url,
      "SELECT * FROM app.people ORDER BY id",
    );
    assert.equal(people.length, 30);
    for (const p of people) {
      assert.match(String(p.email), /^user_[0-9a-f]{12}@example\.invalid$/);
      assert.match(String(p.full_name), /^[A-Z][a-z]+ [A-Z][a-z]+$/);
      assert.match(String(p.phone), /^\+1555\d{10}$/);
      assert.match(String(p.ssn), /^[0-9a-f]{64}$/);
      assert.equal(p.notes, null);
      assert.equal(p.tier, "standard");
      assert.match(String(p.card), /^41\*+\d\d$/);
      assert.equal(String(p.card).length, `4111${MARK}0001`.length);
      assert.match(String(p.nickname), /^nick-[0-9a-f]{8}$/);
    }
    assert.equal(new Set(people.map((p) => p.email)).size, 30);
    assert.deepEqual(
      await rows(
        url,
        `SELECT (SELECT count(*) FROM app.orders o JOIN app.people p USING (email))::int AS joined,
                (SELECT count(*) FROM app.subscribers s JOIN app.people p USING (email))::int AS same,
                (SELECT count(*) FROM auth.users u JOIN app.people p USING (email))::int AS auth_same`,
      ),
      [{ joined: 10, same: 5, auth_same: 2 }],
    );
    const [identity] = await rows<{ ok: boolean }>(
      url,
      `SELECT bool_and(i.identity_data ->> 'email' = u.email AND u.raw_user_meta_data ->> 'email' = u.email) AS ok
         FROM auth.identities i JOIN auth.users u ON u.id = i.user_id`,
    );
    assert.equal(identity.ok, true);
  });

  test("no original value in any table, matview, statistic or index", async () => {
    const [all] = await rows<Record<string, string | null>>(url, EVERYTHING);
    for (const [k, v] of Object.entries(all))
      assert.ok(!v?.includes(MARK), `${k}: ${v?.slice(0, 200)}`);
    assert.equal(all.outbox, null);
    const fromIndex = await emailsFromIndex(url);
    assert.equal(fromIndex.length, 30);
    assert.ok(
      fromIndex.every((e) => e.endsWith("@example.invalid")),
      fromIndex.join(", "),
    );
  });

  test("no file of the branch's data directory or its T0 holds an original value, WAL included", async () => {
    await query(mainUrl, "CHECKPOINT");
    const onParent = await filesContaining(h.dirs("shop", "main").data, MARK);
    assert.ok(
      onParent.some((f) => f.startsWith("base/")) && onParent.some((f) => f.startsWith("pg_wal/")),
    );
    await query(url, "CHECKPOINT");
    const { data, t0 } = h.dirs("shop", "anon");
    const found = await filesContaining(data, MARK);
    // Name the relations a leak is in, so a failure says where to look.
    const names = await rows<{ rel: string }>(
      url,
      "SELECT coalesce(pg_filenode_relation(0, f::oid)::text, f) AS rel FROM unnest($1::text[]) f",
      [found.map((f) => f.split("/").pop() ?? f)],
    );
    assert.deepEqual(found, [], names.map((r) => r.rel).join(", "));
    assert.deepEqual(await filesContaining(t0, MARK), []);
  });

  test("after a reset the branch is still masked", async () => {
    await resetBranch(h.ctx, { project: "shop", name: "anon" });
    const [all] = await rows<Record<string, string | null>>(url, EVERYTHING);
    for (const [k, v] of Object.entries(all)) assert.ok(!v?.includes(MARK), k);
    assert.ok((await emailsFromIndex(url)).every((e) => e.endsWith("@example.invalid")));
    assert.deepEqual(await filesContaining(h.dirs("shop", "anon").data, MARK), []);
  });

  test("the branch is recorded as masked in list and show", async () => {
    const list = await listBranchInfos(h.ctx, { project: "shop" });
    assert.deepEqual(
      list.map((b) => [b.name, b.masked]),
      [
        ["main", false],
        ["anon", true],
      ],
    );
    const human = await bough(home, ["--project", "shop", "branch", "show", "anon"]);
    assert.match(human.stdout, /mode: +full, masked/);
  });

  test("bad rules are refused at mask set with the reason (exit code 64)", async () => {
    const cli = await bough(home, ["--project", "shop", "mask", "set", "app.people.age", "email"]);
    assert.equal(cli.code, 64, cli.stderr);
    assert.match(cli.stderr, /app\.people\.age is integer: email masks text columns only/);
    const cases: [string, string, RegExp][] = [
      ["app.people.email", "mail", /unknown masking rule "mail"/],
      ["app.nope.email", "email", /table app\.nope does not exist/],
      ["app.people.nope", "hash", /table app\.people has no column "nope"/],
      ["app.people.email", "fixed:'x'", /unique: a fixed value would repeat/],
      ["app.people.id", "null", /NOT NULL/],
      ["app.people.age", "sql:nosuchfn({{value}})", /function nosuchfn\(integer\) does not exist/],
      ["app.people.age", "sql:1); DROP TABLE app.people; SELECT (1", /not one expression/],
      ["app.people", "email", /is not SCHEMA\.TABLE\.COLUMN/],
      ["email.templates.subject", "name", /config table .* a merge would carry its fakes/],
    ];
    for (const [column, rule, message] of cases) {
      await assert.rejects(
        maskSet(h.ctx, { ...on, column, rule }),
        (e: BoughError) => e.code === "INVALID_INPUT" && message.test(e.message),
        `${column} ${rule}`,
      );
    }
    await assert.rejects(
      maskUnset(h.ctx, { ...on, column: "app.people.age" }),
      /has no masking rule for app\.people\.age/,
    );
    await maskSet(h.ctx, { ...on, column: "app.people.age", rule: "sql:{{value}} / 10 * 10" });
    await maskUnset(h.ctx, { ...on, column: "app.people.age" });
    const [row] = await rows(
      mainUrl,
      "SELECT count(*)::int AS n FROM bough.mask_rules WHERE column_name = 'age'",
    );
    assert.deepEqual(row, { n: 0 });
  });
});
