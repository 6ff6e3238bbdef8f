import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Validator } from "@seriousme/openapi-schema-validator";
import { openContext } from "../src/branches/context.ts";
import { buildApp } from "../src/interfaces/api/app.ts";
import { Bough, type BoughApiError } from "../src/sdk/index.ts";
import { bough, boughJson } from "./helpers/cli.ts";
import { type ManagementServer, managementServer } from "./helpers/management.ts";
import { query } from "./helpers/sql.ts";

let server: ManagementServer;
let home: string;
let base: string;
let key: string;
const api: ManagementServer["api"] = (...a) => server.api(...a);

const P = "/v1/projects/default";
const names = (v: unknown) => (v as { name: string }[]).map((x) => x.name);

before(async () => {
  server = await managementServer();
  ({ home, base, key } = server);
});
after(async () => {
  await server?.stop();
});

describe("management API", () => {
  test("admin keys: shown once at init, prefixed, named; missing, wrong, revoked → 401", async () => {
    assert.match(key, /^bough_admin_[A-Za-z0-9_-]{43}$/);
    assert.equal((await api("GET", "/v1/status")).status, 200);
    for (const k of [null, "bough_admin_wrong", "nonsense"]) {
      const r = await api("GET", `${P}/branches`, { key: k });
      assert.equal(r.status, 401);
      assert.equal(r.body.code, "UNAUTHORIZED");
      assert.ok(!("name" in r.body) && !Array.isArray(r.body));
    }
    const ci = await boughJson<{ name: string; key: string }>(home, ["admin-key", "create", "ci"]);
    assert.deepEqual(Object.keys(ci).sort(), ["key", "name"]);
    assert.equal((await api("GET", "/v1/status", { key: ci.key })).status, 200);
    const list = await boughJson<{ name: string; lastUsedAt: string | null }[]>(home, [
      "admin-key",
      "list",
    ]);
    assert.deepEqual(
      list.map((k) => k.name),
      ["admin", "ci"],
    );
    assert.ok(list.every((k) => k.lastUsedAt !== null));
    assert.ok(!JSON.stringify(list).includes("bough_admin_"), "never the keys");
    const again = await bough(home, ["--json", "admin-key", "create", "ci"]);
    assert.notEqual(again.code, 0);
    await boughJson(home, ["admin-key", "revoke", "ci"]);
    assert.equal((await api("GET", "/v1/status", { key: ci.key })).status, 401);
  });

  test("status has the server URL; OpenAPI 3.1 validates, lists every /v1 route; /docs", async () => {
    const st = await api("GET", "/v1/status");
    assert.equal(st.body.serverUrl, base);
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    assert.equal(doc.openapi, "3.1.0");
    const v = await new Validator().validate(doc as never);
    assert.equal(v.valid, true, JSON.stringify(v.errors));
    // Every route the app registers under /v1 is documented.
    const ctx = await openContext({ home });
    const app = buildApp(ctx);
    const routes: string[] = [];
    app.addHook("onRoute", (r) => {
      if (!r.url.startsWith("/v1/")) return;
      for (const m of [r.method].flat()) if (m !== "HEAD") routes.push(`${m} ${r.url}`);
    });
    await app.ready();
    await app.close();
    ctx.close();
    assert.ok(routes.length >= 18, routes.join());
    for (const r of routes) {
      const [method, url] = r.split(" ");
      const path = url.replace(/:(\w+)/gu, "{$1}");
      assert.ok(doc.paths[path]?.[method.toLowerCase()], `${r} missing from /openapi.json`);
    }
    const docs = await fetch(`${base}/docs`);
    assert.equal(docs.status, 200);
    assert.match(await docs.text(), /swagger/iu);
  });

  test("bad input: name, unknown branch/project, malformed JSON, oversized body", async () => {
    const bad = await api("POST", `${P}/branches?wait=true`, { body: { name: "Bad_Name" } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, "INVALID_NAME");
    assert.ok(bad.body.hint);
    const schema = await api("POST", `${P}/branches`, { body: { mode: "full" } });
    assert.equal(schema.status, 400);
    assert.equal(schema.body.code, "INVALID_INPUT");
    const mode = await api("POST", `${P}/branches`, { body: { name: "x", mode: "weird" } });
    assert.equal(mode.status, 400);
    const unknown = await api("GET", `${P}/branches/nope`);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.code, "BRANCH_NOT_FOUND");
    assert.equal((await api("GET", "/v1/projects/nope/branches")).body.code, "PROJECT_NOT_FOUND");
    assert.equal((await api("GET", "/v1/operations/op_nope")).status, 404);
    const json = await api("POST", `${P}/branches`, { raw: "{nope" });
    assert.equal(json.status, 400);
    assert.equal(json.body.code, "INVALID_INPUT");
    const big = await api("POST", `${P}/branches`, {
      raw: JSON.stringify({ name: "x".repeat(2 << 20) }),
    });
    assert.equal(big.status, 413);
    assert.equal(big.body.code, "PAYLOAD_TOO_LARGE");
  });

  test("async create: 202 + Location, the operation is polled until it succeeds", async () => {
    const r = await api("POST", `${P}/branches`, { body: { name: "async-one" } });
    assert.equal(r.status, 202);
    const location = r.headers.get("location");
    assert.match(location ?? "", /^\/v1\/operations\/op_/u);
    let op = r.body as Record<string, unknown>;
    for (let i = 0; i < 600 && op.status === "running"; i++) {
      await new Promise((done) => setTimeout(done, 100));
      op = (await api("GET", location as string)).body;
    }
    assert.equal(op.status, "succeeded", JSON.stringify(op));
    assert.equal((op.result as { name: string }).name, "async-one");
    assert.equal((await api("GET", `${P}/branches/async-one`)).body.state, "ready");
  });

  test("two concurrent creates of one name: one 201, the other 409", async () => {
    const both = await Promise.all(
      [1, 2].map(() => api("POST", `${P}/branches?wait=true`, { body: { name: "twin" } })),
    );
    assert.deepEqual(both.map((r) => r.status).sort(), [201, 409]);
    assert.equal(both.find((r) => r.status === 409)?.body.code, "BRANCH_EXISTS");
  });

  test("branch routes: list, show, keys, rotate, stop, start, migrations, diff, reset, merge, delete", async () => {
    const list = await api("GET", `${P}/branches`);
    assert.deepEqual(names(list.body).sort(), ["async-one", "main", "twin"]);
    const show = await api("GET", `${P}/branches/twin`);
    assert.equal(show.body.parent, "main");
    assert.match(String(show.body.secretKey), /^sb_secret_/u);
    const keys = await api("GET", `${P}/branches/twin/keys`);
    const rotated = await api("POST", `${P}/branches/twin/keys/rotate`);
    assert.notEqual(rotated.body.secretKey, keys.body.secretKey);
    assert.equal((await api("POST", `${P}/branches/twin/stop`)).body.running, false);
    assert.equal((await api("POST", `${P}/branches/twin/start`)).body.running, true);
    const m = await api("POST", `${P}/branches/twin/migrations`, {
      body: { name: "0001_orders.sql", sql: "CREATE TABLE orders (id int PRIMARY KEY);" },
    });
    assert.equal(m.status, 200, JSON.stringify(m.body));
    assert.equal(m.body.applied, true);
    const ml = await api("GET", `${P}/branches/twin/migrations`);
    assert.deepEqual(names(ml.body), ["0001_orders.sql"]);
    const diff = await api("GET", `${P}/branches/twin/diff`);
    assert.deepEqual(diff.body.migrations, ["0001_orders.sql"]);
    const merged = await api("POST", `${P}/branches/twin/merge?wait=true`, { body: {} });
    assert.equal(merged.status, 200, JSON.stringify(merged.body));
    assert.equal(merged.body.merged, true);
    const mainUrl = String((await api("GET", `${P}/branches/main`)).body.connectionString);
    assert.equal((await query(mainUrl, "SELECT to_regclass('orders') AS t")).rows[0].t, "orders");
    // Reset throws a change on the branch away.
    const url = String(show.body.connectionString);
    await query(url, "CREATE TABLE scratch (a int)");
    const reset = await api("POST", `${P}/branches/async-one/reset?wait=true`);
    assert.equal(reset.status, 200);
    const reset2 = await api("POST", `${P}/branches/twin/reset?wait=true`);
    assert.equal(reset2.status, 200, JSON.stringify(reset2.body));
    assert.equal((await query(url, "SELECT to_regclass('scratch') AS t")).rows[0].t, null);
    const del = await api("DELETE", `${P}/branches/async-one`);
    assert.deepEqual(del.body, { deleted: ["async-one"] });
    assert.equal((await api("GET", `${P}/branches/async-one`)).status, 404);
  });

  test("conflicting merge: dry-run shows the conflict, merge is 409 with the report", async () => {
    const c = await api("POST", `${P}/branches?wait=true`, { body: { name: "clash" } });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    const mainUrl = String((await api("GET", `${P}/branches/main`)).body.connectionString);
    await query(String(c.body.connectionString), "CREATE TABLE clash (a int)");
    await query(mainUrl, "CREATE TABLE clash (a text)");
    const dry = await api("POST", `${P}/branches/clash/merge`, { body: { dryRun: true } });
    assert.equal(dry.status, 200);
    assert.equal(dry.body.blocked, true);
    assert.ok((dry.body.conflicts as unknown[]).length > 0);
    assert.match(String(dry.body.preview), /MERGE BLOCKED/u);
    const r = await api("POST", `${P}/branches/clash/merge?wait=true`, { body: {} });
    assert.equal(r.status, 409);
    assert.equal(r.body.code, "MERGE_CONFLICT");
    assert.ok((r.body.details as { conflicts: unknown[] }).conflicts.length > 0);
    const main = await api("DELETE", `${P}/branches/main`);
    assert.equal(main.status, 409);
  });

  test("projects: list, create, show, delete", async () => {
    assert.deepEqual(names((await api("GET", "/v1/projects")).body), ["default"]);
    const created = await api("POST", "/v1/projects?wait=true", { body: { name: "second" } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const shown = await api("GET", "/v1/projects/second");
    assert.deepEqual(names(shown.body.branches), ["main"]);
    assert.equal(
      (await api("POST", "/v1/projects?wait=true", { body: { name: "second" } })).status,
      409,
    );
    assert.deepEqual((await api("DELETE", "/v1/projects/second")).body, { deleted: "second" });
    assert.equal((await api("GET", "/v1/projects/second")).status, 404);
  });

  test("SDK: round trip (create, list, dry-run merge, delete), errors typed", async () => {
    const sdk = new Bough({ url: base, key });
    const b = await sdk.branches.create("default", { name: "from-sdk" });
    assert.equal(b.parent, "main");
    assert.ok((await sdk.branches.list("default")).some((x) => x.name === "from-sdk"));
    const preview = await sdk.branches.merge("default", "from-sdk", { dryRun: true });
    assert.equal(preview.dryRun, true);
    assert.equal(preview.blocked, false);
    assert.deepEqual(await sdk.branches.delete("default", "from-sdk"), { deleted: ["from-sdk"] });
    await assert.rejects(sdk.branches.get("default", "from-sdk"), (e: BoughApiError) => {
      assert.equal(e.status, 404);
      assert.equal(e.code, "BRANCH_NOT_FOUND");
      return true;
    });
  });

  test("SDK: every method's method and path is in /openapi.json", async () => {
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const templates = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => ({
        method: m.toUpperCase(),
        re: new RegExp(`^${path.replace(/\{\w+\}/gu, "[^/]+")}$`, "u"),
      })),
    );
    const calls: { method: string; path: string }[] = [];
    const sdk = new Bough({
      url: "http://sdk.test",
      key: "k",
      fetch: async (url, init) => {
        calls.push({ method: init?.method ?? "GET", path: new URL(String(url)).pathname });
        return new Response("{}", { headers: { "content-type": "application/json" } });
      },
    });
    // Every group of calls the client has (its options aside), so a new one cannot be missed.
    type Call = (...a: unknown[]) => Promise<unknown>;
    const groups = Object.entries(sdk)
      .filter(([k]) => k !== "o")
      .map(([, g]) => (typeof g === "function" ? { g } : g) as Record<string, Call>);
    assert.ok(groups.length >= 9, String(groups.length));
    let methods = 0;
    for (const group of groups) {
      for (const fn of Object.values(group)) {
        await fn("p", "b", "n", { name: "n", sql: "" });
        methods++;
      }
    }
    assert.equal(calls.length, methods);
    for (const c of calls) {
      assert.ok(
        templates.some((t) => t.method === c.method && t.re.test(c.path)),
        `${c.method} ${c.path} is not in /openapi.json`,
      );
    }
  });
});
