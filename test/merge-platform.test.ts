import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { bough, boughJson, initialisedHome } from "./helpers/cli.ts";
import { query, rows } from "./helpers/sql.ts";

// The agreed platform config tables, as their services register them (created here: the
// services' own schema code may not be on this branch). IF NOT EXISTS / DO NOTHING keep
// the test valid once it is.
const PLATFORM_SQL = `
CREATE SCHEMA IF NOT EXISTS functions;
CREATE TABLE IF NOT EXISTS functions.functions (
  name text PRIMARY KEY, entrypoint text NOT NULL DEFAULT 'index.ts',
  files jsonb NOT NULL DEFAULT '{}', verify_jwt boolean NOT NULL DEFAULT true);
CREATE SCHEMA IF NOT EXISTS email;
CREATE TABLE IF NOT EXISTS email.templates (type text PRIMARY KEY, subject text NOT NULL, body text NOT NULL);
CREATE SCHEMA IF NOT EXISTS schedules;
CREATE TABLE IF NOT EXISTS schedules.jobs (
  name text PRIMARY KEY, cron text NOT NULL, target_kind text NOT NULL, target text NOT NULL,
  payload jsonb, paused boolean NOT NULL DEFAULT false, armed_branch bigint,
  last_run_at timestamptz, next_run_at timestamptz, failure_count int NOT NULL DEFAULT 0);
CREATE SCHEMA IF NOT EXISTS realtime;
CREATE TABLE IF NOT EXISTS realtime.channel_settings (topic text PRIMARY KEY, private boolean NOT NULL DEFAULT false);
CREATE SCHEMA IF NOT EXISTS secrets;
CREATE TABLE IF NOT EXISTS secrets.secrets (
  key text PRIMARY KEY, value_encrypted text NOT NULL, production_only boolean NOT NULL DEFAULT false,
  set_on_branch bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());
INSERT INTO bough.table_policies (table_name, policy, key_columns, excluded_columns) VALUES
  ('functions.functions', 'upsert', '{name}', '{}'),
  ('email.templates', 'upsert', '{type}', '{}'),
  ('schedules.jobs', 'upsert', '{name}', '{paused,armed_branch,last_run_at,next_run_at,failure_count}'),
  ('realtime.channel_settings', 'upsert', '{topic}', '{}'),
  ('secrets.secrets', 'ignore', '{}', '{}')
ON CONFLICT (table_name) DO NOTHING;
`;

const source = (n: number) => Array.from({ length: n }, (_, i) => `console.log(${i});`).join("\n");
// index.ts on the branch: 3 lines replaced by 12.
const editedSource = (() => {
  const l = source(20).split("\n");
  l.splice(5, 3, ...Array.from({ length: 12 }, (_, i) => `console.log("new ${i}");`));
  return l.join("\n");
})();

const SEED_SQL = `
DELETE FROM email.templates;
INSERT INTO functions.functions (name, entrypoint, files, verify_jwt) VALUES
  ('untouched', 'index.ts', '{"index.ts": "Deno.serve(() => new Response())"}', true);
INSERT INTO email.templates (type, subject, body) VALUES
  ('recovery', 'Reset', 'Hi {{ .Email }}\nClick {{ .Link }}\n'),
  ('signup', 'Welcome', 'Confirm {{ .Link }}\n');
INSERT INTO schedules.jobs (name, cron, target_kind, target, paused, armed_branch, failure_count) VALUES
  ('nightly', '0 3 * * *', 'function', 'send-invoice', false, 1, 0),
  ('hourly', '0 * * * *', 'url', 'https://example.com/ping', false, 1, 0);
INSERT INTO realtime.channel_settings (topic, private) VALUES ('room:1', false), ('room:2', false);
INSERT INTO secrets.secrets (key, value_encrypted, production_only, set_on_branch) VALUES
  ('SHARED_KEY', 'CIPHER-SHARED-VALUE', false, 1);
`;

const SECRET_VALUES = ["CIPHER-SHARED-VALUE", "CIPHER-STRIPE-VALUE"];

interface Report {
  platformChanges: {
    layer: string;
    table: string;
    subject: string;
    action: string;
    text: string;
  }[];
  secretsMissingOnParent: string[];
  preview?: string;
}

const EXPECTED = [
  'functions: function "send-invoice": source changed (+12 −3 lines in index.ts)',
  'email: template "recovery": subject changed',
  'schedules: job "nightly": cron "0 3 * * *" → "0 4 * * *"',
  'realtime: channel "room:1": setting private false → true',
];

describe("merging platform config: described in words, secrets never shown or merged", () => {
  let home: string;
  let main: string;
  let branch: string;
  let remove: () => Promise<void>;

  before(async () => {
    ({ home, mainUrl: main, remove } = await initialisedHome(PLATFORM_SQL));
    await query(main, SEED_SQL);
    await query(
      main,
      `INSERT INTO functions.functions (name, entrypoint, files, verify_jwt)
       VALUES ('send-invoice', 'index.ts', jsonb_build_object('index.ts', $1::text), true)`,
      [source(20)],
    );
    const b = await boughJson<{ connectionString: string }>(home, ["branch", "create", "feat"]);
    branch = b.connectionString;
    // The branch changes four definitions, its own job runtime state, and sets a secret.
    await query(
      branch,
      "UPDATE functions.functions SET files = jsonb_build_object('index.ts', $1::text) WHERE name = 'send-invoice'",
      [editedSource],
    );
    await query(
      branch,
      `UPDATE email.templates SET subject = 'Reset your password' WHERE type = 'recovery';
       UPDATE schedules.jobs SET cron = '0 4 * * *', paused = true, armed_branch = 2,
         last_run_at = '2026-02-02T00:00:00Z', failure_count = 7 WHERE name = 'nightly';
       UPDATE realtime.channel_settings SET private = true WHERE topic = 'room:1';
       INSERT INTO secrets.secrets (key, value_encrypted, production_only, set_on_branch)
         VALUES ('STRIPE_KEY', 'CIPHER-STRIPE-VALUE', false, 2);`,
    );
    // Meanwhile the parent's job runs and gets paused there.
    await query(
      main,
      `UPDATE schedules.jobs SET paused = true, last_run_at = '2026-03-03T00:00:00Z',
         next_run_at = '2026-03-04T03:00:00Z', failure_count = 2 WHERE name = 'nightly'`,
    );
  });
  after(() => remove());

  test("--dry-run shows exactly the four changes in words, the missing secret key, no secret value", async () => {
    const r = await bough(home, ["branch", "merge", "feat", "--dry-run"]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split("\n");
    const at = lines.indexOf("-- platform config, by layer:");
    assert.ok(at > lines.indexOf("-- [DATA]"), r.stdout);
    const block = lines.slice(at + 1, lines.indexOf("", at));
    assert.deepEqual(
      block,
      EXPECTED.map((l) => `--   ${l}`),
    );
    assert.match(
      r.stdout,
      /-- \[SECRETS\][^\n]*\n-- ⚠️ 1 secret key\(s\) set on the branch are missing on "main": STRIPE_KEY/,
    );
    for (const v of SECRET_VALUES) assert.ok(!(r.stdout + r.stderr).includes(v), `${v} leaked`);
    // Runtime state is never part of the merge: not in words, not in the SQL.
    for (const v of ["2026-02-02", "2026-03-03", "armed_branch", "failure_count"])
      assert.ok(!r.stdout.includes(v), `${v} in the preview`);
  });

  test("the JSON reports of merge --dry-run and diff carry the descriptions and missing keys", async () => {
    for (const args of [
      ["branch", "merge", "feat", "--dry-run"],
      ["branch", "diff", "feat"],
    ]) {
      const r = await bough(home, ["--json", ...args]);
      assert.equal(r.code, 0, r.stderr);
      for (const v of SECRET_VALUES) assert.ok(!r.stdout.includes(v), `${v} leaked`);
      const report = JSON.parse(r.stdout) as Report;
      assert.deepEqual(
        report.platformChanges.map((c) => c.text),
        EXPECTED,
      );
      assert.deepEqual(
        report.platformChanges.map((c) => [c.layer, c.subject, c.action]),
        [
          ["functions", 'function "send-invoice"', "changed"],
          ["email", 'template "recovery"', "changed"],
          ["schedules", 'job "nightly"', "changed"],
          ["realtime", 'channel "room:1"', "changed"],
        ],
      );
      assert.deepEqual(report.secretsMissingOnParent, ["STRIPE_KEY"]);
    }
  });

  test("merge -y updates exactly those four on the parent, keeps its job state and its secrets", async () => {
    const r = await boughJson<{ merged: boolean }>(home, ["branch", "merge", "feat"]);
    assert.equal(r.merged, true);
    assert.deepEqual(
      await rows(
        main,
        "SELECT name, files->>'index.ts' AS source FROM functions.functions ORDER BY name",
      ),
      [
        { name: "send-invoice", source: editedSource },
        { name: "untouched", source: "Deno.serve(() => new Response())" },
      ],
    );
    assert.deepEqual(await rows(main, "SELECT type, subject FROM email.templates ORDER BY type"), [
      { type: "recovery", subject: "Reset your password" },
      { type: "signup", subject: "Welcome" },
    ]);
    assert.deepEqual(
      await rows(
        main,
        `SELECT name, cron, paused, armed_branch::int AS armed, failure_count,
                last_run_at::text AS last_run, next_run_at::text AS next_run
           FROM schedules.jobs ORDER BY name`,
      ),
      [
        {
          name: "hourly",
          cron: "0 * * * *",
          paused: false,
          armed: 1,
          failure_count: 0,
          last_run: null,
          next_run: null,
        },
        {
          name: "nightly",
          cron: "0 4 * * *",
          paused: true,
          armed: 1,
          failure_count: 2,
          last_run: "2026-03-03 00:00:00+00",
          next_run: "2026-03-04 03:00:00+00",
        },
      ],
    );
    assert.deepEqual(
      await rows(main, "SELECT topic, private FROM realtime.channel_settings ORDER BY topic"),
      [
        { topic: "room:1", private: true },
        { topic: "room:2", private: false },
      ],
    );
    assert.deepEqual(
      await rows(main, "SELECT key, value_encrypted FROM secrets.secrets ORDER BY key"),
      [{ key: "SHARED_KEY", value_encrypted: "CIPHER-SHARED-VALUE" }],
    );
    // Merged: nothing left to say, and the branch still has its own key (never merged).
    const d = await boughJson<Report>(home, ["branch", "diff", "feat"]);
    assert.deepEqual(d.platformChanges, []);
    assert.deepEqual(d.secretsMissingOnParent, ["STRIPE_KEY"]);
  });
});
