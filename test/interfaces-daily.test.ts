import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { Validator } from "@seriousme/openapi-schema-validator";
import type { FastifyInstance } from "fastify";
import { createAdminKey } from "../src/control/admin-keys.ts";
import type { AuditEntry } from "../src/control/audit.ts";
import { buildApp } from "../src/interfaces/api/app.ts";
import type { ApiBody } from "./helpers/management.ts";
import { call } from "./helpers/mcp.ts";
import { type TestHome, testHome } from "./helpers/project.ts";
import { query, rows } from "./helpers/sql.ts";

// The daily branch features (restore, two-way diff, protection, expiry, idle timeout,
// masking rules, table policies, create from a point in time) through the management API
// (real HTTP) and the MCP server (the SDK's client over /mcp), on one server.

const P = "/v1/projects/default";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ids = async (url: string) =>
  (await rows<{ id: number }>(url, "SELECT id FROM people ORDER BY id")).map((r) => r.id);
const lsnOf = async (url: string) =>
  (await rows<{ l: string }>(url, "SELECT pg_current_wal_lsn()::text AS l"))[0].l;

let h: TestHome;
let app: FastifyInstance;
let base: string;
let key: string;
let mainUrl: string;
let mcp: Client;

/** A management request with the admin key: its status and JSON body. */
async function api(
  method: string,
  path: string,
  o: { body?: unknown } = {},
): Promise<{ status: number; body: ApiBody }> {
  const headers: Record<string, string> = { authorization: `Bearer ${key}` };
  if (o.body !== undefined) headers["content-type"] = "application/json";
  const body = o.body === undefined ? undefined : JSON.stringify(o.body);
  const res = await fetch(`${base}${path}`, { method, headers, body });
  return { status: res.status, body: (await res.json()) as ApiBody };
}

/** The audit log of one branch, through the API. */
const audit = async (branch: string) =>
  (await api("GET", `/v1/audit?project=default&branch=${branch}`)).body as unknown as AuditEntry[];

/** A branch's connection string, as the API gives it. */
const urlOf = async (name: string) =>
  String((await api("GET", `${P}/branches/${name}`)).body.connectionString);

// In process (the routes and /mcp of buildApp, as `bough up` serves them) over real HTTP:
// no CLI start-up, so the file stays well under a minute.
before(async () => {
  h = await testHome();
  mainUrl = await h.project("default");
  key = createAdminKey(h.ctx.db, "admin").key;
  app = buildApp(h.ctx);
  await app.listen({ port: 0, host: "127.0.0.1" });
  base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  await query(
    mainUrl,
    "CREATE TABLE people (id int PRIMARY KEY, email text); INSERT INTO people VALUES (1, 'ann@real.example'), (2, 'bob@real.example')",
  );
  mcp = new Client({ name: "daily-agent", version: "1.0.0" });
  await mcp.connect(
    new StreamableHTTPClientTransport(new URL("/mcp", base), {
      requestInit: { headers: { Authorization: `Bearer ${key}` } },
    }),
  );
});
after(async () => {
  await mcp?.close();
  await app?.close();
  await h?.dispose();
});

describe("management API: daily branch features", () => {
  test("the new routes are in /openapi.json, which still validates", async () => {
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    assert.equal((await new Validator().validate(doc as never)).valid, true);
    const b = "/v1/projects/{project}/branches/{branch}";
    for (const [path, method] of [
      [`${b}/restore`, "post"],
      [`${b}/diff/{other}`, "get"],
      [`${b}/mask-rules`, "get"],
      [`${b}/mask-rules/{column}`, "put"],
      [`${b}/mask-rules/{column}`, "delete"],
      [`${b}/table-policies`, "get"],
      [`${b}/table-policies/{table}`, "put"],
    ]) {
      assert.ok(doc.paths[path]?.[method], `${method} ${path}`);
    }
  });

  test("mask rules, then a masked branch with an expiry and an idle timeout", async () => {
    const set = await api("PUT", `${P}/branches/main/mask-rules/public.people.email`, {
      body: { rule: "email" },
    });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.equal(set.body.column, "public.people.email");
    const bad = await api("PUT", `${P}/branches/main/mask-rules/public.people.email`, {
      body: { rule: "rot13" },
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, "INVALID_INPUT");
    const notColumn = await api("PUT", `${P}/branches/main/mask-rules/people`, {
      body: { rule: "email" },
    });
    assert.equal(notColumn.body.code, "INVALID_INPUT");
    const list = await api("GET", `${P}/branches/main/mask-rules`);
    assert.deepEqual(
      list.body.map((r) => `${(r as { column: string }).column}=${(r as { rule: string }).rule}`),
      ["public.people.email=email"],
    );

    const c = await api("POST", `${P}/branches?wait=true`, {
      body: { name: "masked", mask: true, expiresIn: "1h", suspendAfter: "10m" },
    });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    assert.equal(c.body.masked, true);
    assert.equal(c.body.suspendAfter, "10m");
    const expires = Date.parse(String(c.body.expiresAt)) - Date.now();
    assert.ok(expires > 55 * 60_000 && expires <= 3_600_000, String(c.body.expiresAt));
    const emails = await rows<{ email: string }>(
      String(c.body.connectionString),
      "SELECT email FROM people ORDER BY id",
    );
    assert.equal(emails.length, 2);
    assert.ok(
      emails.every((e) => !e.email.includes("real.example")),
      JSON.stringify(emails),
    );

    const patched = await api("PATCH", `${P}/branches/masked`, {
      body: { noExpiry: true, suspendAfter: "never" },
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.equal(patched.body.expiresAt, null);
    assert.equal(patched.body.suspendAfter, "never");
    const badDuration = await api("PATCH", `${P}/branches/masked`, { body: { suspendAfter: "5" } });
    assert.equal(badDuration.status, 400);
    assert.equal(badDuration.body.code, "INVALID_INPUT");

    const unset = await api("DELETE", `${P}/branches/main/mask-rules/public.people.email`);
    assert.deepEqual(unset.body, { column: "public.people.email", branch: "main" });
    assert.equal((await api("GET", `${P}/branches/main/mask-rules`)).body.length, 0);
  });

  test("create --at, restore (refused while protected, keeps a backup), two-way diff --at", async () => {
    await query(mainUrl, "INSERT INTO people VALUES (3, 'cy@real.example')");
    await sleep(50);
    const between = new Date().toISOString();
    await sleep(50);
    await query(mainUrl, "INSERT INTO people VALUES (4, 'di@real.example')");

    const past = await api("POST", `${P}/branches?wait=true`, {
      body: { name: "past", at: between },
    });
    assert.equal(past.status, 201, JSON.stringify(past.body));
    assert.deepEqual(await ids(String(past.body.connectionString)), [1, 2, 3]);
    const future = await api("POST", `${P}/branches?wait=true`, {
      body: { name: "future", at: "2999-01-01T00:00:00Z" },
    });
    assert.equal(future.status, 400);
    assert.equal(future.body.code, "INVALID_INPUT");
    const both = await api("POST", `${P}/branches?wait=true`, {
      body: { name: "both", at: between, lsn: "0/1" },
    });
    assert.equal(both.body.code, "INVALID_INPUT");

    // "past" gets a table of its own; then a bad change wipes its rows.
    const pastUrl = String(past.body.connectionString);
    await sleep(50);
    const noNotes = new Date().toISOString();
    await sleep(50);
    await query(pastUrl, "CREATE TABLE notes (id int)");
    await sleep(50);
    const good = new Date().toISOString();
    await sleep(50);
    await query(pastUrl, "DELETE FROM people");

    const diff = await api("GET", `${P}/branches/main/diff/past`);
    assert.equal(diff.status, 200, JSON.stringify(diff.body));
    assert.equal(diff.body.bAt, null);
    assert.match(String(diff.body.summary), /notes/);
    const before = await api(
      "GET",
      `${P}/branches/main/diff/past?at=${encodeURIComponent(noNotes)}`,
    );
    assert.equal(before.status, 200, JSON.stringify(before.body));
    assert.ok(before.body.bAt);
    assert.doesNotMatch(String(before.body.summary), /notes/);
    assert.equal((await api("GET", `${P}/branches/main/diff/nope`)).body.code, "BRANCH_NOT_FOUND");

    assert.equal((await api("POST", `${P}/branches/past/protect`)).body.protected, true);
    const refused = await api("POST", `${P}/branches/past/restore?wait=true`, {
      body: { at: good },
    });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.code, "BRANCH_PROTECTED");
    assert.ok(refused.body.hint);
    assert.equal((await api("POST", `${P}/branches/past/unprotect`)).body.protected, false);

    const restored = await api("POST", `${P}/branches/past/restore?wait=true`, {
      body: { at: good },
    });
    assert.equal(restored.status, 200, JSON.stringify(restored.body));
    const backup = String(restored.body.backup);
    assert.match(backup, /^past-before-restore-/u);
    assert.deepEqual(await ids(pastUrl), [1, 2, 3]);
    assert.deepEqual(await ids(await urlOf(backup)), []);
    const noBackup = await api("POST", `${P}/branches/${backup}/restore?wait=true`, {
      body: { lsn: "0/1", noBackup: true },
    });
    assert.equal(noBackup.status, 400, "an LSN before the history window");
    assert.equal(noBackup.body.code, "INVALID_INPUT");
  });

  test("table policies: set merge-rows, list, a bad policy is 400", async () => {
    const set = await api("PUT", `${P}/branches/main/table-policies/public.people`, {
      body: { policy: "merge-rows" },
    });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.deepEqual(set.body, {
      table: "public.people",
      policy: "merge-rows",
      key: ["id"],
      excluded: [],
    });
    const list = await api("GET", `${P}/branches/main/table-policies`);
    assert.ok(list.body.some((t) => (t as { table: string }).table === "public.people"));
    const bad = await api("PUT", `${P}/branches/main/table-policies/public.people`, {
      body: { policy: "overwrite" },
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, "INVALID_INPUT");
  });

  test("audited with the admin key's name", async () => {
    const log = await audit("past");
    const restore = log.filter((r) => r.action === "branch.restore");
    assert.deepEqual(
      restore.map((r) => r.result),
      ["BRANCH_PROTECTED", "ok"],
    );
    assert.deepEqual(restore[1]?.actor, { kind: "api", name: "admin", client: null });
    const main = await audit("main");
    for (const action of ["mask.set", "mask.unset", "table-policy.set"]) {
      assert.ok(
        main.some((r) => r.action === action && r.actor?.kind === "api"),
        `${action} is audited`,
      );
    }
  });
});

describe("MCP: daily branch tools", () => {
  test("the tools are listed, and their descriptions teach the safe way", async () => {
    const { tools } = await mcp.listTools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    for (const n of [
      "restore_branch",
      "diff_branches",
      "protect_branch",
      "unprotect_branch",
      "set_branch_expiry",
      "set_branch_idle_timeout",
      "rename_branch",
      "set_mask_rule",
      "list_mask_rules",
      "unset_mask_rule",
      "set_table_policy",
      "list_table_policies",
    ]) {
      assert.ok(byName.has(n), n);
    }
    assert.match(byName.get("restore_branch")?.description ?? "", /backup/);
    assert.match(byName.get("create_branch")?.description ?? "", /expiresIn/);
    const create = byName.get("create_branch")?.inputSchema.properties ?? {};
    for (const k of ["at", "lsn", "mask", "expiresIn", "expiresAt", "suspendAfter"]) {
      assert.ok(k in create, `create_branch takes ${k}`);
    }
    assert.equal(byName.get("restore_branch")?.annotations?.destructiveHint, true);
    assert.equal(byName.get("diff_branches")?.annotations?.readOnlyHint, true);
  });

  test("create --lsn with an expiry; protected refuses reset; reset to parent; restore; diff", async () => {
    const lsn = await lsnOf(mainUrl);
    await query(mainUrl, "INSERT INTO people VALUES (5, 'ed@real.example')");
    const created = await call(mcp, "create_branch", { name: "agent", lsn, expiresIn: "2h" });
    assert.equal(created.isError, false, JSON.stringify(created.body));
    assert.ok(created.body.expiresAt);
    assert.ok(created.body.secretKey, "keys come with it");
    const agentUrl = String(created.body.connectionString);
    assert.deepEqual(await ids(agentUrl), [1, 2, 3, 4]);

    const prot = await call(mcp, "protect_branch", { name: "agent" });
    assert.equal(prot.body.protected, true);
    assert.equal(prot.body.expiresAt, null, "a protected branch never expires");
    const refused = await call(mcp, "reset_branch", { name: "agent", toParent: true });
    assert.equal(refused.isError, true);
    assert.equal(refused.body.code, "BRANCH_PROTECTED");
    const expiry = await call(mcp, "set_branch_expiry", { name: "agent", expiresIn: "1h" });
    assert.equal(expiry.body.code, "BRANCH_PROTECTED", "nor can it be given one");
    assert.equal((await call(mcp, "unprotect_branch", { name: "agent" })).body.protected, false);

    const reset = await call(mcp, "reset_branch", { name: "agent", toParent: true });
    assert.equal(reset.isError, false, JSON.stringify(reset.body));
    assert.deepEqual(await ids(agentUrl), [1, 2, 3, 4, 5], "the parent's latest rows");

    const set = await call(mcp, "set_branch_expiry", { name: "agent", expiresIn: "3h" });
    assert.equal(set.isError, false, JSON.stringify(set.body));
    assert.ok(set.body.expiresAt);
    const idle = await call(mcp, "set_branch_idle_timeout", { name: "agent", suspendAfter: "30s" });
    assert.equal(idle.body.suspendAfter, "30s");
    const badIdle = await call(mcp, "set_branch_idle_timeout", {
      name: "agent",
      suspendAfter: "x",
    });
    assert.equal(badIdle.body.code, "INVALID_INPUT");

    await sleep(50);
    const good = new Date().toISOString();
    await sleep(50);
    await query(agentUrl, "CREATE TABLE oops (id int); DELETE FROM people WHERE id > 2");
    const diff = await call(mcp, "diff_branches", { a: "main", b: "agent" });
    assert.equal(diff.isError, false, JSON.stringify(diff.body));
    assert.match(String(diff.body.summary), /oops/);
    const restored = await call(mcp, "restore_branch", { name: "agent", at: good, noBackup: true });
    assert.equal(restored.isError, false, JSON.stringify(restored.body));
    assert.equal(restored.body.backup, null);
    assert.deepEqual(await ids(agentUrl), [1, 2, 3, 4, 5]);
    const none = await call(mcp, "restore_branch", { name: "agent" });
    assert.equal(none.body.code, "INVALID_INPUT", "a restore needs at or lsn");

    const renamed = await call(mcp, "rename_branch", { name: "agent", newName: "agent-two" });
    assert.equal(renamed.body.name, "agent-two");
  });

  test("mask rules and table policies", async () => {
    const set = await call(mcp, "set_mask_rule", {
      branch: "agent-two",
      column: "public.people.email",
      rule: "partial(1,'*',4)",
    });
    assert.equal(set.isError, false, JSON.stringify(set.body));
    const list = await call(mcp, "list_mask_rules", { branch: "agent-two" });
    assert.deepEqual(
      (list.body.rules as { column: string }[]).map((r) => r.column),
      ["public.people.email"],
    );
    const bad = await call(mcp, "set_mask_rule", {
      branch: "agent-two",
      column: "public.people.nope",
      rule: "email",
    });
    assert.equal(bad.body.code, "INVALID_INPUT");
    assert.equal(
      (await call(mcp, "unset_mask_rule", { branch: "agent-two", column: "public.people.email" }))
        .isError,
      false,
    );
    const policy = await call(mcp, "set_table_policy", {
      branch: "agent-two",
      table: "public.people",
      policy: "upsert",
      key: ["id"],
      exclude: ["email"],
    });
    assert.equal(policy.isError, false, JSON.stringify(policy.body));
    assert.deepEqual(policy.body.excluded, ["email"]);
    const policies = await call(mcp, "list_table_policies", { branch: "agent-two" });
    assert.ok(
      (policies.body.policies as { table: string; policy: string }[]).some(
        (p) => p.table === "public.people" && p.policy === "upsert",
      ),
    );
  });

  test("audited as mcp with the key's and the client's names", async () => {
    const log = await audit("agent-two");
    for (const action of ["mask.set", "table-policy.set"]) {
      assert.deepEqual(log.find((r) => r.action === action)?.actor, {
        kind: "mcp",
        name: "admin",
        client: "daily-agent",
      });
    }
    const agent = await audit("agent");
    for (const action of ["branch.create", "branch.protect", "branch.restore", "branch.set"]) {
      assert.ok(
        agent.some((r) => r.action === action && r.actor?.kind === "mcp"),
        `${action} as mcp`,
      );
    }
  });
});
