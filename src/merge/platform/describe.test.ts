import assert from "node:assert/strict";
import { test } from "node:test";
import type { Snapshot } from "../catalog/snapshot.ts";
import type { RowUpsertChange } from "../diff/changes.ts";
import { diff3 } from "../diff/diff3.ts";
import { dataTable, snapshot, upsertPolicy } from "../fixtures/builders.ts";
import { plan } from "../plan/plan.ts";
import { renderDiffSummary, renderPreview } from "../render/index.ts";
import { describePlatformChange, platformChanges } from "./describe.ts";

type Rows = Record<string, string | null>[];

/** Key and excluded columns of the agreed platform config tables. */
const TABLES: Record<string, { key: string[]; excluded: string[] }> = {
  "auth.config": { key: ["key"], excluded: [] },
  "storage.buckets": { key: ["id"], excluded: [] },
  "functions.functions": { key: ["name"], excluded: [] },
  "email.templates": { key: ["type"], excluded: [] },
  "email.smtp": { key: ["id"], excluded: ["password", "armed_branch"] },
  "schedules.jobs": {
    key: ["name"],
    excluded: ["paused", "armed_branch", "last_run_at", "next_run_at", "failure_count"],
  },
  "realtime.channel_settings": { key: ["topic"], excluded: [] },
  "public.flags": { key: ["name"], excluded: [] },
};

/** A snapshot holding these rows; excluded values are put in the rows too, as a leak would. */
function world(rows: Record<string, Rows>): Snapshot {
  const names = Object.keys(rows);
  const s = snapshot([], {
    policies: names.map((t) => upsertPolicy(t, TABLES[t].key, TABLES[t].excluded)),
    data: names.map((t) => dataTable(t, TABLES[t].key, rows[t], TABLES[t].excluded)),
  });
  for (const t of names) {
    const key = (r: Rows[number]) => JSON.stringify(TABLES[t].key.map((k) => r[k] ?? null));
    for (const r of rows[t])
      for (const c of TABLES[t].excluded) if (c in r) s.data[t].rows[key(r)][c] = r[c];
  }
  return s;
}

const source = (n: number) => Array.from({ length: n }, (_, i) => `line ${i};`).join("\n");
const files = (f: Record<string, string>) => JSON.stringify(f);

const base = world({
  "functions.functions": [
    {
      name: "send-invoice",
      entrypoint: "index.ts",
      files: files({ "index.ts": source(20) }),
      verify_jwt: "true",
    },
  ],
  "email.templates": [{ type: "recovery", subject: "Reset", body: "Hi\nClick\n" }],
  "schedules.jobs": [
    {
      name: "nightly",
      cron: "0 3 * * *",
      target_kind: "function",
      target: "send-invoice",
      paused: "false",
      last_run_at: "2026-01-01",
    },
  ],
  "realtime.channel_settings": [{ topic: "room:1", private: "false" }],
  "auth.config": [{ key: "site_url", value: '"https://a.example"' }],
  "storage.buckets": [],
  "email.smtp": [{ id: "1", host: "smtp.a", password: "PW-BASE", armed_branch: "1" }],
  "public.flags": [{ name: "beta", on: "false" }],
});

// index.ts: 3 lines replaced by 12 new ones; util.ts added.
const edited = source(20).split("\n");
edited.splice(5, 3, ...Array.from({ length: 12 }, (_, i) => `added ${i};`));
const branch = world({
  "functions.functions": [
    {
      name: "send-invoice",
      entrypoint: "index.ts",
      files: files({ "index.ts": edited.join("\n"), "util.ts": "export const x = 1;\n" }),
      verify_jwt: "true",
    },
  ],
  "email.templates": [{ type: "recovery", subject: "Reset your password", body: "Hi\nClick\n" }],
  "schedules.jobs": [
    {
      name: "nightly",
      cron: "0 4 * * *",
      target_kind: "function",
      target: "send-invoice",
      paused: "true",
      last_run_at: "2026-02-02",
    },
  ],
  "realtime.channel_settings": [{ topic: "room:1", private: "true" }],
  "auth.config": [{ key: "site_url", value: '"https://b.example"' }],
  "storage.buckets": [{ id: "avatars", name: "avatars", public: "true" }],
  "email.smtp": [{ id: "1", host: "smtp.b", password: "PW-BRANCH", armed_branch: "2" }],
  "public.flags": [{ name: "beta", on: "true" }],
});

test("platform config changes read in words, by layer, unknown tables left to the generic rendering", () => {
  const d = diff3(base, base, branch);
  assert.deepEqual(
    platformChanges(d.changes).map((c) => c.text),
    [
      "auth: setting site_url changed",
      'storage: bucket "avatars" added (public)',
      'functions: function "send-invoice": source changed (+12 −3 lines in index.ts; +1 lines in util.ts (new file))',
      'email: SMTP settings: host "smtp.a" → "smtp.b"',
      'email: template "recovery": subject changed',
      'schedules: job "nightly": cron "0 3 * * *" → "0 4 * * *"',
      'realtime: channel "room:1": setting private false → true',
    ],
  );
  const fn = platformChanges(d.changes).find((c) => c.table === "functions.functions");
  assert.deepEqual(fn, {
    id: 'row:functions.functions:["send-invoice"]',
    table: "functions.functions",
    layer: "functions",
    subject: 'function "send-invoice"',
    action: "changed",
    details: ["source changed (+12 −3 lines in index.ts; +1 lines in util.ts (new file))"],
    text: fn?.text,
  });
});

test("added and removed rows, files removed, multi-line text with line counts", () => {
  const before = world({
    "functions.functions": [
      {
        name: "a",
        entrypoint: "index.ts",
        files: files({ "index.ts": "x\n", "old.ts": "1\n2\n" }),
      },
      { name: "gone", entrypoint: "index.ts", files: files({ "index.ts": "x\n" }) },
    ],
    "email.templates": [{ type: "signup", subject: "Hi", body: "a\nb\n" }],
  });
  const after = world({
    "functions.functions": [
      { name: "a", entrypoint: "main.ts", files: files({ "index.ts": "x\n" }) },
      {
        name: "new",
        entrypoint: "index.ts",
        files: files({ "index.ts": "x\n" }),
        verify_jwt: "false",
      },
    ],
    "email.templates": [{ type: "signup", subject: "Hi", body: "a\nc\nd\n" }],
  });
  assert.deepEqual(
    platformChanges(diff3(before, before, after).changes).map((c) => c.text),
    [
      'functions: function "a": entrypoint "index.ts" → "main.ts", source changed (old.ts removed (−2 lines))',
      'functions: function "gone" removed',
      'functions: function "new" added (entrypoint index.ts, 1 file(s), no JWT check)',
      'email: template "signup": body changed (+2 −1 lines)',
    ],
  );
});

test("excluded columns, credential-like names and secrets are never spelled out", () => {
  // Excluded columns are stripped by the diff: only the visible change remains.
  const d = diff3(base, base, branch);
  const all = JSON.stringify(platformChanges(d.changes));
  for (const leak of ["PW-BASE", "PW-BRANCH", "2026-02-02", "armed_branch", "paused"])
    assert.ok(!all.includes(leak), `${leak} leaked`);
  // Even a row that carries one (a table registered without its exclusions) only says "changed".
  const raw = (table: string, before: Record<string, string>, after: Record<string, string>) =>
    describePlatformChange({
      type: "row-upsert",
      id: `row:${table}:["k"]`,
      table,
      key: '["k"]',
      keyColumns: ["key"],
      before: { key: "k", ...before },
      after: { key: "k", ...after },
    } satisfies RowUpsertChange);
  assert.equal(
    raw("email.smtp", { password: "old-pw", host: "h" }, { password: "new-pw", host: "h" })?.text,
    "email: SMTP settings: password changed",
  );
  assert.equal(
    raw("webhooks.hooks", { signing_token: "t1" }, { signing_token: "t2" })?.text,
    'webhooks: webhook "k": signing_token changed',
  );
  const secret = raw(
    "secrets.secrets",
    { value_encrypted: "CIPHER-1" },
    { value_encrypted: "CIPHER-2" },
  );
  assert.equal(secret?.text, 'secrets: secret "k" changed');
  assert.ok(!JSON.stringify(secret).includes("CIPHER"));
});

test("the preview shows platform config by layer in [DATA] and warns about missing secret keys by name", () => {
  const d = diff3(base, base, branch);
  const planned = plan(d, { base, parent: base, branch });
  const text = renderPreview({
    plan: planned,
    diff: d,
    branch: "feature",
    parent: "main",
    secretsMissingOnParent: ["STRIPE_KEY"],
  });
  const data = text.slice(text.indexOf("-- [DATA]"));
  assert.ok(
    data.startsWith(
      [
        "-- [DATA]",
        "-- platform config, by layer:",
        "--   auth: setting site_url changed",
        '--   storage: bucket "avatars" added (public)',
      ].join("\n"),
    ),
    data,
  );
  // Unknown tables keep their generic statement.
  assert.match(data, /-- row-upsert row:public\.flags:\["beta"\]/);
  assert.match(
    text,
    /-- \[SECRETS\] never merged; values are never shown\n-- ⚠️ 1 secret key\(s\) set on the branch are missing on "main": STRIPE_KEY\n/,
  );
  const summary = renderDiffSummary(d);
  assert.match(summary, /~ schedules: job "nightly": cron "0 3 \* \* \*" → "0 4 \* \* \*"/);
  for (const t of [text, summary])
    for (const pw of ["PW-BASE", "PW-BRANCH"]) assert.ok(!t.includes(pw));
});

test("no platform lines and no [SECRETS] section when there is nothing to say", () => {
  const d = diff3(base, base, base);
  const text = renderPreview({
    plan: plan(d, { base, parent: base, branch: base }),
    diff: d,
    branch: "f",
    parent: "main",
  });
  assert.ok(!text.includes("platform config"));
  assert.ok(!text.includes("[SECRETS]"));
  const none = renderPreview({
    plan: plan(d, { base, parent: base, branch: base }),
    diff: d,
    branch: "f",
    parent: "main",
    secretsMissingOnParent: [],
  });
  assert.match(none, /-- every secret key of the branch is also set on "main"/);
});
