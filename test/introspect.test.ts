import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import pgClient from "pg";
import { quoteIdent } from "../src/core/names.ts";
import { ensureBookkeeping } from "../src/merge/bookkeeping.ts";
import { comparableSnapshot } from "../src/merge/catalog/equality.ts";
import type { DbObject, Snapshot } from "../src/merge/catalog/snapshot.ts";
import { readFingerprint } from "../src/merge/fingerprint/index.ts";
import { inSnapshot, introspect } from "../src/merge/introspect/index.ts";
import {
  corpusCases,
  corpusFile,
  createDatabase,
  ensureCorpusRoles,
  KITCHEN_SINK_SQL,
  loadSql,
  withClient,
} from "./helpers/corpus.ts";
import { type ScratchCluster, startScratchCluster } from "./helpers/scratch-cluster.ts";

/** The object type whose kind field admits K (a view and a matview share ViewObject). */
type Of<K, O = DbObject> = O extends { kind: infer OK } ? (K extends OK ? O : never) : never;

function obj<K extends DbObject["kind"]>(s: Snapshot, id: string, kind: K): Of<K> {
  const o = s.objects[id];
  assert.ok(o, `${id} is listed`);
  assert.equal(o.kind, kind);
  return o as Of<K>;
}

/** Every dep names a listed object and the dependency graph has no cycle (the planner sorts by it). */
function assertSortable(s: Snapshot): void {
  const state = new Map<string, "visiting" | "done">();
  const visit = (id: string, path: string[]) => {
    if (state.get(id) === "done") return;
    assert.notEqual(state.get(id), "visiting", `dependency cycle: ${[...path, id].join(" -> ")}`);
    state.set(id, "visiting");
    for (const dep of s.objects[id].deps) {
      assert.ok(s.objects[dep], `${id} depends on unlisted ${dep}`);
      visit(dep, [...path, id]);
    }
    state.set(id, "done");
  };
  for (const id of Object.keys(s.objects)) visit(id, []);
}

const snapshotOf = (url: string, o?: { excludeSchemas?: string[] }) =>
  withClient(url, (c) => introspect(c, o));

describe("introspect", () => {
  let pg: ScratchCluster;
  let sinkUrl: string;
  let sink: Snapshot;

  before(async () => {
    pg = await startScratchCluster({ name: "introspect" });
    await ensureCorpusRoles(pg.url);
    sinkUrl = await createDatabase(pg.url, "sink");
    await withClient(sinkUrl, (c) => c.query(KITCHEN_SINK_SQL));
    sink = await snapshotOf(sinkUrl, { excludeSchemas: ["scratch"] });
  });

  after(async () => {
    await pg?.stop();
  });

  test("lists every kind with its identity, keys sorted", () => {
    const kinds = new Set(Object.values(sink.objects).map((o) => o.kind));
    for (const kind of [
      "schema",
      "extension",
      "enum",
      "domain",
      "composite",
      "sequence",
      "table",
      "column",
    ]) {
      assert.ok(kinds.has(kind as DbObject["kind"]), kind);
    }
    for (const kind of [
      "constraint",
      "index",
      "view",
      "matview",
      "function",
      "trigger",
      "rule",
      "statistics",
      "event_trigger",
      "publication",
      "publication_table",
      "publication_schema",
    ]) {
      assert.ok(kinds.has(kind as DbObject["kind"]), kind);
    }
    for (const kind of ["policy", "grant", "comment"])
      assert.ok(kinds.has(kind as DbObject["kind"]), kind);
    const keys = Object.keys(sink.objects);
    assert.deepEqual(keys, [...keys].sort());
    for (const [id, o] of Object.entries(sink.objects)) assert.equal(o.id, id);
    assert.ok(sink.serverVersion >= 150000);
    assertSortable(sink);
  });

  test("leaves out catalogs, bough, excluded schemas, extension members and implied objects", () => {
    const ids = Object.keys(sink.objects);
    assert.ok(obj(sink, "schema:public", "schema"));
    assert.ok(
      !ids.some((id) => /(^|:)(pg_catalog|information_schema|bough|scratch)\./.test(id)),
      "system/excluded",
    );
    assert.ok(!("schema:bough" in sink.objects) && !("schema:scratch" in sink.objects));
    assert.ok(!("publication_table:app_feed:bough.private" in sink.objects), "bough's table");
    assert.ok(
      !("publication_schema:app_schema:bough" in sink.objects) &&
        !("publication_schema:app_schema:scratch" in sink.objects),
      "excluded schemas in a publication",
    );
    assert.ok(!ids.some((id) => id.startsWith("function:public.citext")), "extension members");
    assert.equal(obj(sink, "extension:citext", "extension").schema, "public");
    assert.ok(!("sequence:app.users_id_seq" in sink.objects), "identity sequence");
    assert.ok(!("index:app.users_pkey" in sink.objects), "index behind a constraint");
    assert.ok(!ids.some((id) => id.startsWith("index:app.events_2024")), "partition index");
    assert.ok(!("trigger:app.events_2024.events_touch" in sink.objects), "partition trigger clone");
    assert.ok(!ids.some((id) => id.includes("not_null")), "NOT NULL constraints");
    assert.ok(
      !("comment:view:app.user_names" in sink.objects),
      "a view column comment is not the view's",
    );
    const fks = ids.filter((id) => id.startsWith("constraint:app.event_refs."));
    assert.deepEqual(
      fks,
      ["constraint:app.event_refs.event_refs_id_at_fkey"],
      "FK clones per partition",
    );
  });

  test("types, sequences, tables and columns", () => {
    assert.deepEqual(obj(sink, "enum:app.mood", "enum").values, ["sad", "ok", "happy"]);
    const domain = obj(sink, "domain:app.posint", "domain");
    assert.deepEqual(
      [domain.baseType, domain.notNull, domain.default, domain.checks],
      ["integer", true, "1", { posint_check: "CHECK (VALUE > 0)", small: "CHECK (VALUE < 1000)" }],
    );
    assert.deepEqual(obj(sink, "composite:app.pair", "composite").attributes, [
      { name: "a", type: "integer" },
      { name: "b", type: "app.mood" },
    ]);
    const seq = obj(sink, "sequence:app.counter", "sequence");
    assert.deepEqual(
      [seq.start, seq.increment, seq.cache, seq.cycle, seq.ownedBy],
      ["100", "5", "2", true, "app.users.n"],
    );
    const users = obj(sink, "table:app.users", "table");
    assert.deepEqual(users.options, ["fillfactor=70"]);
    assert.equal(obj(sink, "table:app.cache", "table").persistence, "u");
    assert.equal(obj(sink, "table:app.events", "table").partitionBy, "RANGE (at)");
    assert.deepEqual(obj(sink, "table:app.events_2024", "table").partitionOf, {
      parent: "app.events",
      bound: "FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
    });
    assert.deepEqual(obj(sink, "table:app.child", "table").inherits, ["app.base"]);
    assert.equal(obj(sink, "table:app.posts", "table").rlsEnabled, true);

    assert.equal(obj(sink, "column:app.users.id", "column").identity, "always");
    assert.equal(obj(sink, "column:app.users.email", "column").type, "public.citext");
    assert.equal(obj(sink, "column:app.users.name", "column").collation, '"C"');
    assert.equal(obj(sink, "column:app.users.mood", "column").default, "'ok'::app.mood");
    const twice = obj(sink, "column:app.users.twice", "column");
    assert.deepEqual(
      [twice.generated, twice.generatedKind, twice.default],
      ["app.double(n)", "stored", null],
    );
    assert.equal(obj(sink, "column:app.child.created", "column").inherited, true);
    assert.equal(obj(sink, "column:app.child.extra", "column").inherited, false);
    assert.equal(obj(sink, "column:app.events_2024.at", "column").inherited, true);
  });

  test("constraints, indexes, views, functions, triggers, policies", () => {
    const fk = obj(sink, "constraint:app.posts.posts_user_id_fkey", "constraint");
    assert.deepEqual([fk.type, fk.references, fk.inherited], ["f", "app.users", false]);
    assert.equal(fk.definition, "FOREIGN KEY (user_id) REFERENCES app.users(id) ON DELETE CASCADE");
    assert.equal(
      obj(sink, "constraint:app.child.base_created_check", "constraint").inherited,
      true,
    );
    assert.equal(
      obj(sink, "constraint:app.events_2024.events_2024_pkey", "constraint").inherited,
      true,
    );
    assert.match(
      obj(sink, "index:app.posts_body_idx", "index").definition,
      /lower\(body\)\) WHERE \(body IS NOT NULL\)/,
    );
    assert.equal(obj(sink, "index:app.post_counts_user", "index").table, "post_counts");
    assert.equal(
      obj(sink, "index:app.events_at_idx", "index").definition,
      "CREATE INDEX events_at_idx ON app.events USING btree (at)",
      "a partitioned table's index cascades to the partitions (no ON ONLY)",
    );
    const view = obj(sink, "view:app.user_names", "view");
    assert.deepEqual(view.options, ["security_barrier=true"]);
    assert.match(view.definition, /app\.double\(/);
    assert.equal(obj(sink, "matview:app.post_counts", "matview").kind, "matview");
    const fn = obj(sink, "function:app.double(i integer)", "function");
    assert.deepEqual([fn.prokind, fn.returns, fn.identityArgs], ["f", "integer", "i integer"]);
    assert.match(fn.definition, /^CREATE OR REPLACE FUNCTION app\.double\(i integer\)/);
    assert.equal(obj(sink, "function:app.noop(IN n integer)", "function").prokind, "p");
    const agg = obj(sink, "function:app.total(integer)", "function");
    assert.match(
      agg.definition,
      /CREATE OR REPLACE AGGREGATE app\.total\(integer\)[\s\S]*SFUNC = int4pl/,
    );
    const trg = obj(sink, "trigger:app.users.users_touch", "trigger");
    assert.equal(trg.enabled, "D");
    assert.match(trg.definition, /EXECUTE FUNCTION app\.touch\(\)/);
    const rule = obj(sink, "rule:app.posts.posts_keep", "rule");
    assert.equal(rule.enabled, "D");
    assert.match(rule.definition, /^CREATE RULE posts_keep AS\s+ON DELETE TO app\.posts\s+WHERE/);
    assert.ok(rule.deps.includes("column:app.posts.body"), rule.deps.join());
    assert.ok(obj(sink, "comment:rule:app.posts.posts_keep", "comment"));
    const st = obj(sink, "statistics:app.users_pair", "statistics");
    assert.deepEqual(
      [st.relation, st.definition, st.statisticsTarget],
      [
        "app.users",
        "CREATE STATISTICS app.users_pair (ndistinct, dependencies) ON id, name FROM app.users",
        250,
      ],
    );
    assert.ok(st.deps.includes("column:app.users.name"), st.deps.join());
    const et = obj(sink, "event_trigger:app_ddl", "event_trigger");
    assert.deepEqual(
      [et.event, et.tags, et.function],
      ["ddl_command_end", ["ALTER TABLE", "CREATE TABLE"], "app.on_ddl()"],
    );
    const pub = obj(sink, "publication:app_feed", "publication");
    assert.deepEqual(
      [pub.allTables, pub.publish, pub.viaRoot],
      [false, ["insert", "update"], false],
    );
    const member = obj(sink, "publication_table:app_feed:app.posts", "publication_table");
    assert.deepEqual([member.columns, member.rowFilter], [["id", "body"], "(id > 0)"]);
    const whole = obj(sink, "publication_table:app_feed:app.users", "publication_table");
    assert.deepEqual([whole.columns, whole.rowFilter], [null, null]);
    assert.ok(obj(sink, "publication_schema:app_schema:app", "publication_schema"));
    const pol = obj(sink, "policy:app.posts.own_posts", "policy");
    assert.deepEqual(
      [pol.permissive, pol.command, pol.roles, pol.using, pol.withCheck],
      [
        false,
        "UPDATE",
        [{ kind: "role", name: "schemainspect_test_role" }],
        "(user_id > 0)",
        "(body IS NOT NULL)",
      ],
    );
  });

  test("grants and comments (effective privileges, owner defaults implicit)", () => {
    const g = (id: string) => obj(sink, id, "grant");
    assert.deepEqual(g("grant:table:app.users:schemainspect_test_role").privileges, [
      "INSERT*",
      "SELECT*",
    ]);
    assert.equal(g("grant:table:app.users:schemainspect_test_role").targetKind, "table");
    assert.deepEqual(g("grant:column:app.posts.body:schemainspect_test_role").privileges, [
      "UPDATE",
    ]);
    assert.deepEqual(g("grant:sequence:app.counter:PUBLIC").privileges, ["USAGE"]);
    assert.deepEqual(g("grant:schema:app:schemainspect_test_role").privileges, ["USAGE"]);
    assert.deepEqual(
      g("grant:function:app.touch():PUBLIC").privileges,
      ["EXECUTE"],
      "default EXECUTE to PUBLIC",
    );
    assert.ok(
      !("grant:function:app.double(i integer):PUBLIC" in sink.objects),
      "revoked from PUBLIC",
    );
    assert.ok(!("grant:enum:app.mood:PUBLIC" in sink.objects), "revoked from PUBLIC");
    assert.ok(
      !Object.keys(sink.objects).some((id) => id.startsWith("grant:") && id.endsWith(":postgres")),
      "owner",
    );
    assert.equal(obj(sink, "comment:table:app.users", "comment").text, "people");
    assert.equal(obj(sink, "comment:column:app.users.email", "comment").text, "login");
    assert.equal(obj(sink, "comment:constraint:app.users.name_len", "comment").text, "short names");
    assert.equal(obj(sink, "comment:trigger:app.users.users_touch", "comment").text, "stamp");
    assert.equal(obj(sink, "comment:event_trigger:app_ddl", "comment").text, "audit");
  });

  test("deps: what each object needs first", () => {
    const deps = (id: string) => sink.objects[id].deps;
    const has = (id: string, ...needed: string[]) => {
      for (const d of needed)
        assert.ok(deps(id).includes(d), `${id} needs ${d}; has ${deps(id).join(", ")}`);
    };
    has("table:app.users", "schema:app");
    has("column:app.users.email", "table:app.users", "extension:citext");
    has("column:app.users.mood", "enum:app.mood");
    has("column:app.posts.moods", "enum:app.mood");
    has("column:app.users.score", "domain:app.posint");
    has("column:app.users.pair", "composite:app.pair");
    has("column:app.users.n", "sequence:app.counter");
    has("column:app.users.twice", "function:app.double(i integer)", "column:app.users.n");
    has("composite:app.pair", "enum:app.mood");
    has(
      "constraint:app.posts.posts_user_id_fkey",
      "table:app.users",
      "constraint:app.users.users_pkey",
    );
    has("index:app.posts_body_idx", "table:app.posts", "column:app.posts.body");
    has("view:app.user_names", "column:app.users.name", "function:app.double(i integer)");
    has("matview:app.post_counts", "column:app.posts.user_id");
    has("index:app.post_counts_user", "matview:app.post_counts");
    has("trigger:app.users.users_touch", "table:app.users", "function:app.touch()");
    has("event_trigger:app_ddl", "function:app.on_ddl()");
    has(
      "publication_table:app_feed:app.posts",
      "publication:app_feed",
      "table:app.posts",
      "column:app.posts.id",
      "column:app.posts.body",
    );
    has("publication_schema:app_schema:app", "publication:app_schema", "schema:app");
    has("policy:app.posts.own_posts", "table:app.posts", "column:app.posts.user_id");
    has("table:app.events_2024", "table:app.events");
    has("table:app.child", "table:app.base");
    has("grant:table:app.users:schemainspect_test_role", "table:app.users");
    has("comment:column:app.users.email", "column:app.users.email");
    assert.ok(
      !deps("sequence:app.counter").includes("column:app.users.n"),
      "OWNED BY is a field, not a dep",
    );
  });

  test("deterministic and JSON-safe", async () => {
    const again = await snapshotOf(sinkUrl, { excludeSchemas: ["scratch"] });
    assert.deepEqual(again, sink);
    assert.deepEqual(JSON.parse(JSON.stringify(sink)), sink);
  });

  test("over several connections in one exported snapshot: the same snapshot and fingerprint, byte for byte", async () => {
    const connect = async () => {
      const c = new pgClient.Client({ connectionString: sinkUrl });
      await c.connect();
      return c;
    };
    const pooled = await withClient(sinkUrl, (c) =>
      introspect(c, { excludeSchemas: ["scratch"], connect, connections: 4 }),
    );
    assert.equal(JSON.stringify(pooled), JSON.stringify(sink));
    const [alone, spread] = await withClient(sinkUrl, async (c) => [
      await readFingerprint(c, { excludeSchemas: ["scratch"] }),
      await readFingerprint(c, { excludeSchemas: ["scratch"], connect }),
    ]);
    assert.equal(JSON.stringify(spread), JSON.stringify(alone));
    // Every connection reads the snapshot taken first: a table committed meanwhile is seen by none.
    const seen = await withClient(sinkUrl, (c) =>
      inSnapshot(
        c,
        async (readers) => {
          await withClient(sinkUrl, (w) => w.query("CREATE TABLE public.committed_meanwhile ()"));
          const look = () =>
            readers.run(async (r) => {
              const { rows } = await r.query<{ pid: number; n: number }>(
                "SELECT pg_backend_pid() AS pid, count(*)::int AS n, pg_sleep(0.2) FROM pg_class WHERE relname = 'committed_meanwhile'",
              );
              return rows[0];
            });
          return Promise.all([look(), look()]);
        },
        { connect, connections: 2 },
      ),
    );
    await withClient(sinkUrl, (w) => w.query("DROP TABLE public.committed_meanwhile"));
    assert.equal(new Set(seen.map((r) => r.pid)).size, 2, "two connections read");
    assert.deepEqual(
      seen.map((r) => r.n),
      [0, 0],
    );
  });

  test("definitions are executable: recreating objects from them gives the same snapshot", async () => {
    const def = (id: string) => (sink.objects[id] as { definition: string }).definition;
    await withClient(sinkUrl, async (c) => {
      await c.query("BEGIN");
      try {
        await c.query("DROP AGGREGATE app.total(integer)");
        await c.query(def("function:app.total(integer)"));
        await c.query(def("function:app.double(i integer)"));
        await c.query("DROP INDEX app.posts_body_idx");
        await c.query(def("index:app.posts_body_idx"));
        await c.query("DROP INDEX app.events_at_idx");
        await c.query(def("index:app.events_at_idx"));
        const partIdx = await c.query(
          "SELECT count(*)::int AS n FROM pg_index WHERE indexrelid = 'app.events_at_idx'::regclass AND indisvalid",
        );
        assert.equal(partIdx.rows[0].n, 1, "the recreated partitioned index is valid");
        await c.query("DROP STATISTICS app.users_pair");
        await c.query(def("statistics:app.users_pair"));
        await c.query("ALTER STATISTICS app.users_pair SET STATISTICS 250");
        await c.query("DROP VIEW app.user_names");
        await c.query(
          `CREATE VIEW app.user_names WITH (security_barrier) AS ${def("view:app.user_names")}`,
        );
        const again = await introspect(c, { excludeSchemas: ["scratch"] });
        assert.equal(comparableSnapshot(again), comparableSnapshot(sink));
      } finally {
        await c.query("ROLLBACK");
      }
    });
  });

  test("inside the caller's transaction: sees its work and leaves the session as it was", async () => {
    await withClient(sinkUrl, async (c) => {
      await c.query("SET search_path = app, public");
      await c.query("BEGIN");
      await c.query("CREATE TABLE app.pending (id int)");
      const s = await introspect(c);
      assert.ok(s.objects["table:app.pending"], "uncommitted table is seen");
      assert.equal(c.getTransactionStatus(), "T");
      const path = await c.query("SHOW search_path");
      assert.equal(path.rows[0].search_path, "app, public");
      await c.query("ROLLBACK");
    });
  });

  test("PG 18: virtual generated columns", async (t) => {
    if (sink.serverVersion < 180000) return t.skip("needs Postgres 18");
    const url = await createDatabase(pg.url, "pg18");
    await withClient(url, (c) =>
      c.query("CREATE TABLE v (a int NOT NULL, b int GENERATED ALWAYS AS (a * 2) VIRTUAL)"),
    );
    const s = await snapshotOf(url);
    const b = obj(s, "column:public.v.b", "column");
    assert.deepEqual([b.generated, b.generatedKind], ["(a * 2)", "virtual"]);
    assert.equal(obj(s, "column:public.v.a", "column").notNull, true);
    assert.ok(!Object.keys(s.objects).some((id) => id.startsWith("constraint:public.v.")));
  });

  test("collations: provider and locale fields, and what uses them depends on them", async () => {
    const url = await createDatabase(pg.url, "collations");
    await withClient(url, (c) =>
      c.query(`
        CREATE COLLATION numeric (provider = icu, locale = 'en-u-kn-true');
        CREATE COLLATION loose (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
        CREATE COLLATION bytes (provider = libc, lc_collate = 'POSIX', lc_ctype = 'C');
        COMMENT ON COLLATION numeric IS 'natural order';
        CREATE DOMAIN label AS text COLLATE bytes;
        CREATE TABLE w (a text COLLATE numeric, b text COLLATE "C", c label);
        CREATE INDEX w_loose ON w (a COLLATE loose);`),
    );
    const s = await snapshotOf(url);
    const numeric = obj(s, "collation:public.numeric", "collation");
    assert.deepEqual(
      [numeric.provider, numeric.locale, numeric.lcCollate, numeric.deterministic, numeric.rules],
      ["icu", "en-u-kn-true", null, true, null],
    );
    assert.equal(obj(s, "collation:public.loose", "collation").deterministic, false);
    const bytes = obj(s, "collation:public.bytes", "collation");
    assert.deepEqual(
      [bytes.provider, bytes.locale, bytes.lcCollate, bytes.lcCtype],
      ["libc", null, "POSIX", "C"],
    );
    assert.deepEqual(obj(s, "comment:collation:public.numeric", "comment").deps, [
      "collation:public.numeric",
    ]);
    assert.equal(obj(s, "column:public.w.a", "column").collation, 'public."numeric"');
    assert.ok(obj(s, "column:public.w.a", "column").deps.includes("collation:public.numeric"));
    assert.ok(obj(s, "domain:public.label", "domain").deps.includes("collation:public.bytes"));
    assert.ok(obj(s, "index:public.w_loose", "index").deps.includes("collation:public.loose"));
    // Built-in collations (pg_catalog) are never listed, nor are grants on collations.
    assert.ok(
      !Object.keys(s.objects).some((id) => /^collation:pg_catalog\.|^grant:collation:/.test(id)),
    );
    assertSortable(s);
  });

  test("data layer: policies and upsert rows, excluded columns never read", async () => {
    const url = await createDatabase(pg.url, "datalayer");
    await withClient(url, async (c) => {
      await ensureBookkeeping(c);
      await c.query(`
        CREATE SCHEMA auth;
        CREATE TABLE auth.settings (k text PRIMARY KEY, v jsonb, secret text, n int);
        INSERT INTO auth.settings VALUES ('b', '{"x": 1}', 's1', NULL), ('a', '[1, 2]', 's2', 7);
        CREATE TABLE public."Odd Name" (id int, part text, val text, PRIMARY KEY (id, part));
        INSERT INTO public."Odd Name" VALUES (1, 'x', 'one');
        CREATE TABLE public.logs (id int);
        INSERT INTO bough.table_policies VALUES
          ('auth.settings', 'upsert', '{k}', '{secret}'),
          ('public.Odd Name', 'upsert', '{id,part}', '{}'),
          ('public.logs', 'ignore', '{}', '{}'),
          ('public.gone', 'upsert', '{id}', '{}');
      `);
    });
    const s = await snapshotOf(url);
    assert.ok(
      !Object.keys(s.objects).some((id) => id.includes("bough.")),
      "bookkeeping is not schema",
    );
    assert.deepEqual(Object.keys(s.policies), [
      "auth.settings",
      "public.Odd Name",
      "public.gone",
      "public.logs",
    ]);
    assert.deepEqual(s.policies["auth.settings"], {
      table: "auth.settings",
      policy: "upsert",
      key: ["k"],
      excluded: ["secret"],
    });
    assert.equal(s.policies["public.logs"].policy, "ignore");
    assert.deepEqual(Object.keys(s.data), ["auth.settings", "public.Odd Name"]);
    assert.deepEqual(s.data["auth.settings"], {
      table: "auth.settings",
      key: ["k"],
      excluded: ["secret"],
      columns: ["k", "n", "v"],
      rows: {
        '["a"]': { k: "a", n: "7", v: "[1, 2]" },
        '["b"]': { k: "b", n: null, v: '{"x": 1}' },
      },
    });
    assert.ok(!JSON.stringify(s).includes("s1"), "secret values are never read");
    assert.deepEqual(s.data["public.Odd Name"].rows, {
      '["1","x"]': { id: "1", part: "x", val: "one" },
    });

    await withClient(url, (c) =>
      c.query(
        "UPDATE bough.table_policies SET key_columns = '{nope}' WHERE table_name = 'auth.settings'",
      ),
    );
    await assert.rejects(
      snapshotOf(url),
      (err: Error & { code?: string }) => err.code === "INVALID_INPUT",
    );
  });

  test("corpus: same SQL gives the same snapshot, a and b differ", async () => {
    // Cheap (databases of one cluster): every case, always.
    const cases = corpusCases({ all: true });
    assert.ok(cases.length > 0, "the migra corpus is present");
    for (const kase of cases) {
      const snaps: Snapshot[] = [];
      for (const [db, file] of [
        [`${kase}_a1`, "a.sql"],
        [`${kase}_a2`, "a.sql"],
        [`${kase}_b`, "b.sql"],
      ]) {
        const url = await createDatabase(pg.url, db);
        await loadSql(url, corpusFile(kase, file));
        snaps.push(await snapshotOf(url));
        await withClient(pg.url, (c) => c.query(`DROP DATABASE ${quoteIdent(db)}`));
      }
      const [a1, a2, b] = snaps;
      assertSortable(a1);
      assertSortable(b);
      assert.equal(comparableSnapshot(a1), comparableSnapshot(a2), `${kase}: a.sql loaded twice`);
      assert.notEqual(comparableSnapshot(a1), comparableSnapshot(b), `${kase}: a.sql vs b.sql`);
    }
  });
});
