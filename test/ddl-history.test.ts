import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { FastifyInstance } from "fastify";
import { branchHistory } from "../src/branches/history.ts";
import { mergeBranch } from "../src/branches/merge.ts";
import { resetBranch } from "../src/branches/reset.ts";
import type { AuditEntry } from "../src/control/audit.ts";
import { createAdminKey } from "../src/control/admin-keys.ts";
import { buildApp } from "../src/interfaces/api/app.ts";
import type { BranchHistory } from "../src/branches/history.ts";
import { Bough } from "../src/sdk/index.ts";
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

describe("DDL history and the audit API", () => {
  let h: TestHome;
  let app: FastifyInstance;
  let base = "";
  let key = "";

  before(async () => {
    h = await testHome();
    const main = await h.project(P);
    await query(main, "CREATE TABLE legacy (id int)");
    await query(main, "CREATE TABLE before_fork (id int)");
    const feat = await h.branch(P, "feat");
    for (const sql of FEATURE_DDL) await query(feat, sql);
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
  });

  after(async () => {
    await app?.close();
    await h?.dispose();
  });

  test("branch history --json lists the branch's DDL in order, with statement, actor and objects", async () => {
    const hist = await boughJson<BranchHistory>(h.home, ["--project", P, "branch", "history", "feat"]);
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
    assert.ok(hist.entries[0].objects.some((o) => o.identity === "public.orders"));
    assert.ok(hist.entries[2].objects.some((o) => o.type === "index" && o.identity === "public.orders_note"));
    assert.ok(hist.entries[3].objects.some((o) => o.action === "dropped" && o.identity === "public.legacy"));
    assert.ok(hist.entries.every((e) => !e.statement.includes("before_fork")));
    assert.ok(hist.entries.every((e) => !e.statement.includes("parent_later")));
  });
});
