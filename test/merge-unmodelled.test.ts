import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { deleteBranch } from "../src/branches/delete.ts";
import { diffBranch } from "../src/branches/diff.ts";
import { mergeBranch } from "../src/branches/merge.ts";
import { withClient } from "../src/branches/sql.ts";
import { createAdminKey } from "../src/control/admin-keys.ts";
import { buildApp } from "../src/interfaces/api/app.ts";
import { buildMcpServer } from "../src/interfaces/mcp/server.ts";
import { readFingerprint } from "../src/merge/fingerprint/index.ts";
import { bough } from "./helpers/cli.ts";
import { call } from "./helpers/mcp.ts";
import { type TestHome, testHome } from "./helpers/project.ts";
import { query, rows } from "./helpers/sql.ts";

const fingerprint = (url: string) => withClient(url, (c) => readFingerprint(c));

/** What pg_attribute and pg_class say of t's physical settings. */
async function physical(url: string) {
  const columns = await rows(
    url,
    `SELECT a.attrelid::regclass::text AS rel, a.attname AS col, a.attstorage AS storage,
            coalesce(a.attstattarget, -1)::int AS stats
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
      WHERE c.relname IN ('t', 'n', 'pp', 'pp1', 'pp2') AND c.relnamespace = 'public'::regnamespace
        AND a.attnum > 0 AND NOT a.attisdropped AND a.attname <> 'id'
      ORDER BY 1, 2`,
  );
  const identity = await rows(
    url,
    `SELECT c.relname AS rel, c.relreplident AS ident,
            (SELECT ic.relname FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
              WHERE i.indrelid = c.oid AND i.indisreplident) AS index
       FROM pg_class c WHERE c.relname IN ('t', 'n') AND c.relnamespace = 'public'::regnamespace ORDER BY 1`,
  );
  return { columns, identity };
}

describe("objects the snapshot does not model: merged when modelled, else refused or warned by name", () => {
  let t: TestHome;
  let main: string;
  let n = 0;
  const project = "unm";
  const name = () => `u${++n}`;

  before(async () => {
    t = await testHome();
    main = await t.project(project);
    await query(
      main,
      `CREATE ROLE unm_alice;
       CREATE TABLE t (id int PRIMARY KEY, a text, b text, u int NOT NULL UNIQUE);
       INSERT INTO t VALUES (1, 'x', 'y', 1);
       CREATE FUNCTION same(int, int) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT $1 = $2';
       CREATE TEXT SEARCH CONFIGURATION unm_ts (COPY = simple);
       CREATE FOREIGN DATA WRAPPER unm_wrapper;
       CREATE SERVER unm_server FOREIGN DATA WRAPPER unm_wrapper;`,
    );
  });
  after(async () => {
    await query(main, "DROP OWNED BY unm_alice; DROP ROLE unm_alice").catch(() => {});
    await t.dispose();
  });

  test("replica identity, storage and statistics targets merge three-way, partitions included", async () => {
    const b = name();
    const branch = await t.branch(project, b);
    await query(main, "ALTER TABLE t ALTER COLUMN a SET STATISTICS 200");
    await query(
      branch,
      `ALTER TABLE t ALTER COLUMN a SET STORAGE EXTERNAL, ALTER COLUMN b SET STATISTICS 1000,
         REPLICA IDENTITY USING INDEX t_u_key;
       CREATE TABLE n (id int, x text);
       ALTER TABLE n ALTER COLUMN x SET STORAGE MAIN, REPLICA IDENTITY FULL;
       CREATE TABLE pp (k int, v text) PARTITION BY LIST (k);
       ALTER TABLE pp ALTER COLUMN v SET STORAGE EXTERNAL;
       CREATE TABLE pp1 PARTITION OF pp FOR VALUES IN (1);
       CREATE TABLE pp2 PARTITION OF pp FOR VALUES IN (2);
       ALTER TABLE ONLY pp2 ALTER COLUMN v SET STORAGE DEFAULT;
       ALTER TABLE pp1 ALTER COLUMN v SET STATISTICS 20;`,
    );
    const r = await mergeBranch(t.ctx, { project, name: b });
    assert.equal(r.merged, true, r.preview);
    assert.deepEqual(r.unmergeable, []);
    assert.deepEqual(r.notCarried, []);
    assert.match(r.preview, /ALTER TABLE "public"\."t" REPLICA IDENTITY USING INDEX "t_u_key";/);
    const want = await physical(branch);
    // The parent's own statistics target on a stays: the branch changed other attributes of a.
    for (const c of want.columns) if (c.rel === "t" && c.col === "a") c.stats = 200;
    assert.deepEqual(await physical(main), want);
    assert.deepEqual(want.identity, [
      { rel: "n", ident: "f", index: null },
      { rel: "t", ident: "i", index: "t_u_key" },
    ]);
    await deleteBranch(t.ctx, { project, name: b });
  });

  test("refused by name: foreign tables, operators, text search; CLI, API and MCP alike", async () => {
    const b = name();
    const branch = await t.branch(project, b);
    await query(
      branch,
      `CREATE FOREIGN TABLE ft (a int) SERVER unm_server;
       CREATE OPERATOR === (LEFTARG = int, RIGHTARG = int, FUNCTION = same);
       ALTER TEXT SEARCH CONFIGURATION unm_ts ALTER MAPPING FOR asciiword WITH english_stem;
       ALTER TABLE t ADD COLUMN c int;`,
    );
    const parentBefore = await fingerprint(main);
    const r = await mergeBranch(t.ctx, { project, name: b });
    assert.equal(r.blocked, true);
    assert.equal(r.merged, false);
    const messages = r.unmergeable.map((p) => p.message);
    const expect = [
      /^the branch created foreign table public\.ft; bough does not merge foreign tables yet/,
      /^the branch created operator public\.===\(integer,integer\); bough does not merge these objects yet/,
      /^the branch changed the definition of text search configuration public\.unm_ts .*; bough does not merge these objects yet/,
    ];
    for (const re of expect)
      assert.ok(
        messages.some((m) => re.test(m)),
        `${re}\n${messages.join("\n")}`,
      );
    assert.ok(r.unmergeable.every((p) => p.severity === "refuse"));
    assert.match(
      r.preview,
      /^-- ⚠️ MERGE BLOCKED: the branch changed \d+ object\(s\) bough cannot merge:/u,
    );
    assert.match(
      r.preview,
      /-- {3}the branch created foreign table public\.ft; .* \[class:public\.ft\]/,
    );
    assert.deepEqual(await fingerprint(main), parentBefore);
    // branch diff reports the same.
    const d = await diffBranch(t.ctx, { project, name: b });
    assert.deepEqual(
      d.unmergeable.map((p) => p.message),
      messages,
    );

    // CLI: exit 2, the sentences on stderr.
    const cli = await bough(t.home, ["--project", project, "branch", "merge", b, "-y"]);
    assert.equal(cli.code, 2, cli.stderr);
    assert.match(
      cli.stderr,
      /the branch created foreign table public\.ft; bough does not merge foreign tables yet/,
    );

    // API: 409 MERGE_CONFLICT with the report.
    const key = createAdminKey(t.ctx.db, "unm").key;
    const app = buildApp(t.ctx);
    try {
      const res = await app.inject({
        method: "POST",
        url: `/v1/projects/${project}/branches/${b}/merge?wait=true`,
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        payload: "{}",
      });
      assert.equal(res.statusCode, 409, res.body);
      const body = res.json() as {
        code: string;
        message: string;
        details: { unmergeable: { message: string }[] };
      };
      assert.equal(body.code, "MERGE_CONFLICT");
      assert.match(body.message, /bough does not merge foreign tables yet/);
      assert.deepEqual(
        body.details.unmergeable.map((p) => p.message),
        messages,
      );
    } finally {
      await app.close();
    }

    // MCP: an error result with the same code and report.
    const server = buildMcpServer(t.ctx, { project, actorName: "test" });
    const [x, y] = InMemoryTransport.createLinkedPair();
    const client = new Client({ name: "unmodelled-agent", version: "1.0.0" });
    await Promise.all([server.connect(x), client.connect(y)]);
    try {
      const m = await call(client, "merge_branch", { name: b });
      assert.equal(m.isError, true);
      assert.equal(m.body.code, "MERGE_CONFLICT");
      assert.match(String(m.body.message), /the branch created foreign table public\.ft/);
    } finally {
      await client.close();
      await server.close();
    }
    assert.deepEqual(await fingerprint(main), parentBefore);
    await deleteBranch(t.ctx, { project, name: b });
  });

  test("warned by name: compression and a comment on an unmodelled object change no results; extended statistics merge", async () => {
    const b = name();
    const branch = await t.branch(project, b);
    await query(
      branch,
      `CREATE STATISTICS unm_s ON a, b FROM t;
       COMMENT ON SERVER unm_server IS 'the wrapper''s server';
       ALTER TABLE t ADD COLUMN d text COMPRESSION pglz;`,
    );
    const dry = await mergeBranch(t.ctx, { project, name: b, dryRun: true });
    assert.equal(dry.blocked, false, dry.preview);
    assert.deepEqual(
      dry.notCarried.map((p) => [p.key, p.severity]),
      [
        ["column:public.t.d", "warn"],
        ["comment:object:server unm_server", "warn"],
      ],
    );
    assert.match(dry.preview, /-- ⚠️ NOT MERGED: the branch changed 2 object\(s\)/);
    assert.match(
      dry.preview,
      /the branch created the comment on server unm_server; bough does not merge comments on objects it does not model yet: merged without it/,
    );
    const cli = await bough(t.home, ["--project", project, "branch", "merge", b, "-y"]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(
      cli.stdout,
      /⚠️ not merged: the branch changed the compression of column d on public\.t/,
    );
    assert.deepEqual(
      await rows(main, "SELECT pg_get_statisticsobjdef(oid) AS def FROM pg_statistic_ext"),
      [{ def: "CREATE STATISTICS public.unm_s ON a, b FROM t" }],
    );
    assert.deepEqual(
      await rows(
        main,
        "SELECT attcompression::text AS c FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 'd'",
      ),
      [{ c: "" }],
    );
    await deleteBranch(t.ctx, { project, name: b });
  });
});
