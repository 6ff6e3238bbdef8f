import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { FastifyInstance } from "fastify";
import { type BranchHistory, branchHistory } from "../src/branches/history.ts";
import { mergeBranch } from "../src/branches/merge.ts";
import { resetBranch } from "../src/branches/reset.ts";
import { createAdminKey } from "../src/control/admin-keys.ts";
import { buildApp } from "../src/interfaces/api/app.ts";
import { buildMcpServer } from "../src/interfaces/mcp/server.ts";
import { Bough, type BoughApiError, type MergeReport } from "../src/sdk/index.ts";
import { boughJson } from "./helpers/cli.ts";
import { type TestHome, testHome } from "./helpers/project.ts";
import { query } from "./helpers/sql.ts";

const P = "hist";
const DASH_KEY = "hist-dashboard-key";

/** The branch's own DDL, one statement per query so each row's text is that statement. */
const FEATURE_DDL = [
  "CREATE TABLE orders (id int PRIMARY KEY, note varchar(20))",
  "ALTER TABLE orders ALTER COLUMN note TYPE text",
  "CREATE INDEX orders_note ON orders (note)",
  "DROP TABLE legacy",
];

describe("DDL history and the audit trail", () => {
  let h: TestHome;
  let app: FastifyInstance;
  let base = "";
  let key = "";
  let sdk: Bough;
  const feat = () => h.url(P, "feat");
  const history = (branch: string) => branchHistory(h.ctx, { project: P, name: branch });

  before(async () => {
    h = await testHome();
    const main = await h.project(P);
    for (const sql of [
      "CREATE TABLE legacy (id int)",
      "CREATE TABLE before_fork (id int)",
      "CREATE ROLE alice",
      "GRANT CREATE ON SCHEMA public TO alice",
    ]) {
      await query(main, sql);
    }
    await h.branch(P, "feat");
    for (const sql of FEATURE_DDL) await query(feat(), sql);
    // After the fork, on the parent: never part of the branch's history.
    await query(main, "CREATE TABLE parent_later (id int)");
    key = createAdminKey(h.ctx.db, "hist").key;
    app = buildApp(h.ctx, {
      dashboard: {
        authorize: async (token) => (token === DASH_KEY ? "hist-dash" : null),
        project: P,
      },
    });
    await app.listen({ port: 0, host: "127.0.0.1" });
    base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    sdk = new Bough({ url: base, key });
  });

  after(async () => {
    await app?.close();
    await h?.dispose();
  });

  test("branch history --json: the branch's DDL since the fork, in order, with statement, actor and objects", async () => {
    const hist = await boughJson<BranchHistory>(h.home, [
      "--project",
      P,
      "branch",
      "history",
      "feat",
    ]);
    assert.equal(hist.branch, "feat");
    assert.deepEqual(
      hist.entries.map((e) => [e.commandTag, e.statement]),
      [
        ["CREATE TABLE", FEATURE_DDL[0]],
        ["ALTER TABLE", FEATURE_DDL[1]],
        ["CREATE INDEX", FEATURE_DDL[2]],
        ["DROP TABLE", FEATURE_DDL[3]],
      ],
    );
    for (const e of hist.entries) {
      assert.equal(e.sessionUser, "postgres");
      assert.equal(e.currentUser, "postgres");
      assert.ok(Date.parse(e.at) >= Date.parse(hist.forkedAt ?? ""), e.at);
    }
    const ids = (i: number) => hist.entries[i].objects.map((o) => `${o.action} ${o.identity}`);
    assert.ok(ids(0).includes("CREATE TABLE public.orders"), ids(0).join());
    assert.ok(ids(2).includes("CREATE INDEX public.orders_note"), ids(2).join());
    assert.ok(ids(3).includes("dropped public.legacy"), ids(3).join());
    // The parent's DDL, before the fork or after it, is not the branch's.
    const texts = hist.entries.map((e) => e.statement).join("\n");
    for (const t of ["before_fork", "alice", "parent_later"]) assert.ok(!texts.includes(t), t);
    assert.ok((await history("main")).entries.some((e) => e.statement.includes("parent_later")));
  });

  test("merge dry-run JSON links each change to the statements that made it", async () => {
    const r = await fetch(`${base}/v1/projects/${P}/branches/feat/merge`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ dryRun: true }),
    });
    assert.equal(r.status, 200);
    const report = (await r.json()) as MergeReport;
    const tags = (id: string) => (report.changeHistory[id] ?? []).map((d) => d.commandTag);
    assert.deepEqual(tags("table:public.orders"), ["CREATE TABLE", "ALTER TABLE"]);
    assert.deepEqual(tags("index:public.orders_note"), ["CREATE INDEX"]);
    assert.deepEqual(tags("table:public.legacy"), ["DROP TABLE"]);
    const changed = new Set(report.changes.map((c) => (c as { id: string }).id));
    for (const id of Object.keys(report.changeHistory)) assert.ok(changed.has(id), id);
    const create = report.changeHistory["table:public.orders"][0];
    assert.equal(create.statement, FEATURE_DDL[0]);
    assert.equal(create.actor, "postgres");
  });

  test("history and audit routes: 401 without an admin key, data with one (SDK too)", async () => {
    for (const path of [`/v1/projects/${P}/branches/feat/history`, "/v1/audit"]) {
      const r = await fetch(`${base}${path}`);
      assert.equal(r.status, 401, path);
      assert.equal(((await r.json()) as { code: string }).code, "UNAUTHORIZED");
    }
    const hist = await sdk.branches.history(P, "feat");
    assert.deepEqual(
      hist.entries.map((e) => e.statement),
      FEATURE_DDL,
    );
    const future = new Date(Date.now() + 3_600_000).toISOString();
    assert.deepEqual((await sdk.branches.history(P, "feat", { since: future })).entries, []);
    const audit = await sdk.audit.list({ project: P, branch: "feat" });
    assert.ok(audit.some((a) => a.action === "branch.create" && a.result === "ok"));
    assert.ok(audit.some((a) => a.action === "branch.merge" && a.args.dryRun === true));
    assert.ok(audit.every((a) => a.branch === "feat" && a.project === P));
    assert.equal((await sdk.audit.list({ limit: 1 })).length, 1);
    await assert.rejects(sdk.audit.list({ since: "yesterday-ish" }), (e: BoughApiError) => {
      assert.equal(e.status, 400);
      assert.equal(e.code, "INVALID_INPUT");
      return true;
    });
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: object };
    assert.ok(
      "/v1/audit" in doc.paths && "/v1/projects/{project}/branches/{branch}/history" in doc.paths,
    );
  });

  test("MCP branch_history returns the same history", async () => {
    const server = buildMcpServer(h.ctx, { project: P, actorName: "test" });
    const [a, b] = InMemoryTransport.createLinkedPair();
    const client = new Client({ name: "history-agent", version: "1.0.0" });
    await Promise.all([server.connect(a), client.connect(b)]);
    try {
      const r = await client.callTool({ name: "branch_history", arguments: { name: "feat" } });
      assert.ok(!r.isError, JSON.stringify(r.content));
      const hist = r.structuredContent as unknown as BranchHistory;
      assert.deepEqual(
        hist.entries.map((e) => e.statement),
        FEATURE_DDL,
      );
    } finally {
      await client.close();
      await server.close();
    }
  });

  test("dashboard: the audit page lists actions in a table; the merge review cites statements", async () => {
    const login = await fetch(`${base}/dashboard/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ key: DASH_KEY }),
      redirect: "manual",
    });
    assert.equal(login.status, 303);
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0];
    const get = async (path: string) => {
      const r = await fetch(`${base}${path}`, { headers: { cookie, accept: "text/html" } });
      assert.equal(r.status, 200, path);
      return r.text();
    };
    const audit = await get(`/dashboard/p/${P}/audit?branch=feat`);
    assert.match(audit, /<th scope="col">Action<\/th>/u);
    assert.match(audit, /<label for="audit-branch">Branch<\/label>/u);
    assert.match(audit, /data-audit-row="\d+"[\s\S]*<code>branch\.create<\/code>/u);
    assert.ok(!audit.includes("<code>project.create</code>"), "filtered by branch");
    const tree = await get(`/dashboard/p/${P}`);
    assert.match(
      tree,
      /<nav aria-label="Project pages">[\s\S]*href="\/dashboard\/p\/hist\/audit"/u,
    );
    const review = await get(`/dashboard/p/${P}/b/feat/merge/fragment`);
    assert.match(
      review,
      /from: <code>ALTER TABLE orders ALTER COLUMN note TYPE text<\/code> at <time[^>]*>\d\d:\d\d<\/time> by postgres/u,
    );
  });

  test("SET ROLE is the actor; a failing record never fails the DDL", async () => {
    await query(feat(), "SET ROLE alice; CREATE TABLE by_alice (id int)");
    const last = (await history("feat")).entries.at(-1);
    assert.equal(last?.sessionUser, "postgres");
    assert.equal(last?.currentUser, "alice");
    assert.equal(last?.commandTag, "CREATE TABLE");
    // Not for the merge below: a table another role owns lacks the request roles' default grants.
    await query(feat(), "DROP TABLE by_alice");
    // A log that refuses every row: the user's DDL still runs, unrecorded, with a warning.
    await query(feat(), "ALTER TABLE bough.ddl_log ADD CONSTRAINT refuse CHECK (false) NOT VALID");
    await query(feat(), "CREATE TABLE unrecorded (id int)");
    await query(feat(), "ALTER TABLE bough.ddl_log DROP CONSTRAINT refuse");
    assert.ok((await query(feat(), "SELECT to_regclass('unrecorded') AS t")).rows[0].t);
    assert.ok(!(await history("feat")).entries.some((e) => e.statement.includes("unrecorded")));
  });

  test("a merge's statements are recorded on the parent by application_name; reset returns history to T0", async () => {
    const r = await mergeBranch(h.ctx, { project: P, name: "feat" });
    assert.ok(r.merged, r.blockedReason ?? "");
    const merged = (await history("main")).entries.filter(
      (e) => e.applicationName === "bough merge feat",
    );
    assert.ok(
      merged.some((e) => e.commandTag === "CREATE TABLE" && e.statement.includes("orders")),
    );
    assert.ok(merged.some((e) => e.commandTag === "DROP TABLE"));
    await resetBranch(h.ctx, { project: P, name: "feat" });
    assert.deepEqual((await history("feat")).entries, []);
  });
});
