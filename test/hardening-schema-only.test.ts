import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createBranch } from "../src/branches/create.ts";
import { resetBranch } from "../src/branches/reset.ts";
import { startBranchOp, stopBranchOp } from "../src/branches/start-stop.ts";
import { isRoot } from "../src/clusters/os-user.ts";
import { filesContaining } from "./helpers/files.ts";
import { type TestHome, testHome } from "./helpers/project.ts";
import { query, rows } from "./helpers/sql.ts";

// A value that appears nowhere but in the parent's user data (short: stored inline, uncompressed).
const MARKER = "pii-7f3a9c1e-bough-marker";

// Every place a parent's rows can hide, and a config table that must keep its rows.
const PARENT_SQL = `
CREATE SCHEMA crm;
CREATE TABLE crm.people (id serial PRIMARY KEY, email text NOT NULL, ssn text);
INSERT INTO crm.people (email, ssn) SELECT '${MARKER}', 'ssn-' || g FROM generate_series(1, 20) g;
CREATE TABLE crm.orders (id serial PRIMARY KEY, person_id int NOT NULL REFERENCES crm.people, note text);
INSERT INTO crm.orders (person_id, note) SELECT id, '${MARKER}' FROM crm.people;
CREATE STATISTICS crm.people_mcv (mcv) ON email, ssn FROM crm.people;
CREATE MATERIALIZED VIEW crm.people_mv AS SELECT id, email FROM crm.people;
CREATE VIEW crm.people_v AS SELECT id, email FROM crm.people_mv;
CREATE MATERIALIZED VIEW crm.people_mv2 AS SELECT email FROM crm.people_v WHERE id > 0;
CREATE UNLOGGED TABLE crm.cache (k text PRIMARY KEY, v text);
INSERT INTO crm.cache VALUES ('k1', '${MARKER}');
CREATE TABLE public.events (id bigint GENERATED ALWAYS AS IDENTITY (START WITH 100), at date NOT NULL, payload text)
  PARTITION BY RANGE (at);
CREATE TABLE public.events_2025 PARTITION OF public.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE public.events_2026 PARTITION OF public.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
INSERT INTO public.events (at, payload) VALUES ('2025-06-01', '${MARKER}'), ('2026-06-01', '${MARKER}');
CREATE TABLE public.notes (id int, body text);
CREATE TABLE public.notes_archived (archived_at date) INHERITS (public.notes);
INSERT INTO public.notes_archived VALUES (1, '${MARKER}', '2026-01-01');
CREATE SEQUENCE public.invoice_no START 50;
SELECT nextval('public.invoice_no') FROM generate_series(1, 7);
SELECT lo_from_bytea(0, convert_to('${MARKER} in a large object', 'UTF8'));
CREATE SEQUENCE public.plan_code;
CREATE TABLE public.plans (id serial, key text PRIMARY KEY, label text, code int DEFAULT nextval('public.plan_code'));
INSERT INTO public.plans (key, label) VALUES ('free', 'Free plan'), ('pro', 'Pro plan');
INSERT INTO bough.table_policies VALUES ('public.plans', 'upsert', '{key}', '{}');
-- Config, but its rows point at emptied ones: emptied too.
CREATE TABLE public.vip (key text PRIMARY KEY, person_id int REFERENCES crm.people);
INSERT INTO public.vip VALUES ('first', 1);
INSERT INTO bough.table_policies VALUES ('public.vip', 'upsert', '{key}', '{}');
-- Registered as user data: emptied although a policy says upsert.
CREATE TABLE public.profiles (user_id int PRIMARY KEY, display text);
INSERT INTO public.profiles VALUES (1, '${MARKER}');
INSERT INTO bough.table_policies VALUES ('public.profiles', 'upsert', '{user_id}', '{}');
INSERT INTO bough.user_data_tables VALUES ('public.profiles');
ANALYZE;
`;

// An extension with config tables (pg_extension_config_dump): rows it ships stay, user rows go.
const EXTENSION_SQL = `
CREATE TABLE ext_conf (id int PRIMARY KEY, v text NOT NULL, builtin boolean NOT NULL DEFAULT false);
INSERT INTO ext_conf VALUES (1, 'shipped with the extension', true);
SELECT pg_catalog.pg_extension_config_dump('ext_conf', 'WHERE NOT builtin');
CREATE TABLE ext_log (v text);
SELECT pg_catalog.pg_extension_config_dump('ext_log', '');
CREATE SEQUENCE ext_seq START 10;
SELECT pg_catalog.pg_extension_config_dump('ext_seq', '');
`;
// Only root's test home has a private copy of the install to add an extension to.
const WITH_EXTENSION = isRoot();

async function installTestExtension(binDir: string): Promise<void> {
  const dir = join(binDir, "..", "share", "postgresql", "extension");
  await writeFile(
    join(dir, "boughtest.control"),
    "comment = 'bough test'\ndefault_version = '1.0'\nrelocatable = false\n",
  );
  await writeFile(join(dir, "boughtest--1.0.sql"), EXTENSION_SQL);
}

const COUNTS = `SELECT
  (SELECT count(*) FROM crm.people)::int AS people,
  (SELECT count(*) FROM crm.orders)::int AS orders,
  (SELECT count(*) FROM crm.people_mv)::int AS mv,
  (SELECT count(*) FROM crm.people_mv2)::int AS mv2,
  (SELECT count(*) FROM crm.cache)::int AS cache,
  (SELECT count(*) FROM public.events)::int AS events,
  (SELECT count(*) FROM public.events_2025)::int AS events_2025,
  (SELECT count(*) FROM public.notes)::int AS notes,
  (SELECT count(*) FROM public.notes_archived)::int AS notes_archived,
  (SELECT count(*) FROM public.profiles)::int AS profiles,
  (SELECT count(*) FROM public.vip)::int AS vip,
  (SELECT count(*) FROM pg_largeobject_metadata)::int AS large_objects,
  (SELECT count(*) FROM pg_stats WHERE schemaname IN ('crm', 'public'))::int AS stats,
  (SELECT count(*) FROM pg_stats_ext WHERE schemaname = 'crm')::int AS ext_stats`;

const EMPTY = {
  people: 0,
  orders: 0,
  mv: 0,
  mv2: 0,
  cache: 0,
  events: 0,
  events_2025: 0,
  notes: 0,
  notes_archived: 0,
  profiles: 0,
  vip: 0,
  large_objects: 0,
  stats: 0,
  ext_stats: 0,
};

describe("schema-only branches hold none of the parent's user data", () => {
  let h: TestHome;
  let mainUrl: string;
  let url: string;
  let parentCounts: Record<string, number>;

  before(async () => {
    h = await testHome();
    mainUrl = await h.project("leaky");
    // A transaction the parent prepared (and never finished) is cloned with its rows and locks.
    await query(mainUrl, "ALTER SYSTEM SET max_prepared_transactions = 2");
    await stopBranchOp(h.ctx, { project: "leaky", name: "main" });
    await startBranchOp(h.ctx, { project: "leaky", name: "main" });
    await query(mainUrl, PARENT_SQL);
    if (WITH_EXTENSION) {
      await installTestExtension(h.ctx.cluster.install.binDir);
      await query(
        mainUrl,
        `CREATE SCHEMA extdata; CREATE EXTENSION boughtest SCHEMA extdata;
         INSERT INTO extdata.ext_conf (id, v) VALUES (2, '${MARKER}');
         INSERT INTO extdata.ext_log VALUES ('${MARKER}');
         SELECT nextval('extdata.ext_seq') FROM generate_series(1, 3);`,
      );
    }
    // Other databases of the cluster, one closed to connections.
    for (const db of ["other", "closed"]) {
      await query(mainUrl, `CREATE DATABASE ${db}`);
      await query(
        mainUrl.replace(/\/postgres$/, `/${db}`),
        `CREATE TABLE t (v text); INSERT INTO t VALUES ('${MARKER}')`,
      );
    }
    await query(mainUrl, "ALTER DATABASE closed ALLOW_CONNECTIONS false");
    await query(
      mainUrl,
      `BEGIN; INSERT INTO crm.cache VALUES ('pending', '${MARKER}'); PREPARE TRANSACTION 'parent-pending'`,
    );
    parentCounts = (await rows<Record<string, number>>(mainUrl, COUNTS))[0] ?? {};
    const b = await createBranch(h.ctx, {
      project: "leaky",
      name: "shape",
      mode: "schema-only",
      switchTo: false,
    });
    url = b.branch.connectionString;
  });
  after(async () => {
    await query(mainUrl, "ROLLBACK PREPARED 'parent-pending'").catch(() => {});
    await h.dispose();
  });

  test("the parent's data is there and the file scan finds it", async () => {
    assert.deepEqual(parentCounts, {
      people: 20,
      orders: 20,
      mv: 20,
      mv2: 20,
      cache: 1,
      events: 2,
      events_2025: 1,
      notes: 1,
      notes_archived: 1,
      profiles: 1,
      vip: 1,
      large_objects: 1,
      // one row per analysed column (partitioned and inheritance parents also get inherited ones)
      stats: 33,
      ext_stats: 1,
    });
    assert.deepEqual(
      await rows(
        mainUrl,
        "SELECT most_common_vals::text AS v FROM pg_stats WHERE schemaname = 'crm' AND tablename = 'people' AND attname = 'email'",
      ),
      [{ v: `{${MARKER}}` }],
    );
    await query(mainUrl, "CHECKPOINT");
    const hits = await filesContaining(h.dirs("leaky", "main").data, MARKER);
    assert.ok(
      hits.some((f) => f.startsWith("base/")),
      `heap files: ${hits.join(", ")}`,
    );
    assert.ok(
      hits.some((f) => f.startsWith("pg_wal/")),
      `WAL: ${hits.join(", ")}`,
    );
  });

  test("every table, view, sequence, large object and statistic is empty", async () => {
    assert.deepEqual((await rows(url, COUNTS))[0], EMPTY);
    assert.deepEqual(
      await rows(url, "SELECT matviewname, ispopulated FROM pg_matviews ORDER BY 1"),
      [
        { matviewname: "people_mv", ispopulated: true },
        { matviewname: "people_mv2", ispopulated: true },
      ],
    );
    assert.deepEqual(await rows(url, "SELECT count(*)::int AS n FROM pg_prepared_xacts"), [
      { n: 0 },
    ]);
    const other = url.replace(/\/postgres$/, "/other");
    assert.deepEqual(await rows(other, "SELECT count(*)::int AS n FROM t"), [{ n: 0 }]);
    assert.deepEqual(await rows(url, "SELECT datname, datallowconn FROM pg_database ORDER BY 1"), [
      { datname: "closed", datallowconn: false },
      { datname: "other", datallowconn: true },
      { datname: "postgres", datallowconn: true },
      { datname: "template0", datallowconn: false },
      { datname: "template1", datallowconn: true },
    ]);
  });

  test("sequences start over; a config table keeps its rows and its counter", async () => {
    assert.deepEqual(
      await rows(
        url,
        `SELECT nextval('crm.people_id_seq')::int AS serial, nextval('public.invoice_no')::int AS standalone,
                nextval('public.plans_id_seq')::int AS kept, nextval('public.plan_code')::int AS kept_default`,
      ),
      [{ serial: 1, standalone: 50, kept: 3, kept_default: 3 }],
    );
    assert.deepEqual(
      await rows(url, "INSERT INTO public.events (at) VALUES ('2026-02-01') RETURNING id::int"),
      [{ id: 100 }],
    );
    assert.deepEqual(await rows(url, "SELECT key, label FROM public.plans ORDER BY key"), [
      { key: "free", label: "Free plan" },
      { key: "pro", label: "Pro plan" },
    ]);
  });

  test("extension config tables lose their user rows and keep the extension's", {
    skip: WITH_EXTENSION ? false : "adding an extension needs root's private install copy",
  }, async () => {
    assert.deepEqual(await rows(url, "SELECT id, v FROM extdata.ext_conf ORDER BY id"), [
      { id: 1, v: "shipped with the extension" },
    ]);
    assert.deepEqual(
      await rows(
        url,
        "SELECT (SELECT count(*) FROM extdata.ext_log)::int AS log, nextval('extdata.ext_seq')::int AS seq",
      ),
      [{ log: 0, seq: 10 }],
    );
    assert.deepEqual(await rows(mainUrl, "SELECT count(*)::int AS n FROM extdata.ext_conf"), [
      { n: 2 },
    ]);
  });

  test("no file of the branch or its T0 holds the marker, WAL included", async () => {
    await query(url, "CHECKPOINT");
    assert.deepEqual(await filesContaining(h.dirs("leaky", "shape").data, MARKER), []);
    assert.deepEqual(await filesContaining(h.dirs("leaky", "shape").t0, MARKER), []);
  });

  test("reset returns to the emptied state; the parent keeps everything", async () => {
    await query(url, "INSERT INTO crm.people (email) VALUES ('branch@example.com')");
    await resetBranch(h.ctx, { project: "leaky", name: "shape" });
    assert.deepEqual((await rows(url, COUNTS))[0], EMPTY);
    assert.deepEqual(await rows(url, "SELECT count(*)::int AS n FROM public.plans"), [{ n: 2 }]);
    assert.deepEqual((await rows(mainUrl, COUNTS))[0], parentCounts);
    assert.deepEqual(await rows(mainUrl, "SELECT gid FROM pg_prepared_xacts"), [
      { gid: "parent-pending" },
    ]);
  });
});
