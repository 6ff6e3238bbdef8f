import assert from "node:assert/strict";
import { resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { AuditEntry } from "../src/control/audit.ts";
import { boughJson, freePort, initialisedHome, type RunningUp, startUp } from "./helpers/cli.ts";
import { call, type ToolResult } from "./helpers/mcp.ts";
import { rows } from "./helpers/sql.ts";

const BIN = resolve(import.meta.dirname, "../bin/bough.js");

let home: string;
let mainUrl: string;
let remove: () => Promise<void>;
let client: Client;

before(async () => {
  ({ home, mainUrl, remove } = await initialisedHome(
    "CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes VALUES (1, 'one');",
  ));
  client = new Client({ name: "test-agent", version: "1.0.0" });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [BIN, "--home", home, "mcp"],
      stderr: "pipe",
    }),
  );
});

after(async () => {
  await client?.close();
  await remove?.();
});

describe("bough mcp over stdio", () => {
  test("lists the tools, whose descriptions teach the workflow", async () => {
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name).sort();
    for (const n of [
      "create_branch",
      "delete_branch",
      "deploy_function",
      "describe_schema",
      "diff_branch",
      "list_branches",
      "merge_branch",
      "migrate_apply",
      "read_outbox",
      "reset_branch",
      "run_sql",
      "show_branch",
    ]) {
      assert.ok(names.includes(n), n);
    }
    const merge = tools.find((t) => t.name === "merge_branch");
    assert.match(merge?.description ?? "", /dryRun/);
  });

  test("branch → read → refused write → write → dry-run → merge; main has it", async () => {
    const created = await call(client, "create_branch", { name: "feat" });
    assert.equal(created.isError, false, JSON.stringify(created.body));
    assert.match(String(created.body.connectionString), /^postgres/);
    assert.match(String(created.body.apiUrl), /^http/);
    assert.ok(created.body.publishableKey && created.body.secretKey);

    const read = await call(client, "run_sql", { branch: "feat", sql: "SELECT body FROM notes" });
    assert.deepEqual(read.body.rows, [{ body: "one" }]);
    assert.equal(read.body.readOnly, true);

    const insert = "INSERT INTO notes VALUES (2, 'two')";
    const refused = await call(client, "run_sql", { branch: "feat", sql: insert });
    assert.equal(refused.isError, true);
    assert.equal(refused.body.code, "INVALID_INPUT");
    assert.match(String(refused.body.hint), /allowWrite/);

    const sneaky = await call(client, "run_sql", { branch: "feat", sql: `COMMIT; ${insert}` });
    assert.equal(sneaky.isError, true);
    assert.deepEqual(
      (await call(client, "run_sql", { branch: "feat", sql: "SELECT count(*)::int n FROM notes" }))
        .body.rows,
      [{ n: 1 }],
    );

    const wrote = await call(client, "run_sql", { branch: "feat", sql: insert, allowWrite: true });
    assert.equal(wrote.isError, false, JSON.stringify(wrote.body));
    assert.equal(wrote.body.rowCount, 1);
    const ddl = "ALTER TABLE notes ADD COLUMN tag text";
    assert.equal(
      (await call(client, "run_sql", { branch: "feat", sql: ddl, allowWrite: true })).isError,
      false,
    );

    const onMain = await call(client, "run_sql", { branch: "main", sql: insert, allowWrite: true });
    assert.equal(onMain.isError, true);
    assert.equal(onMain.body.code, "BRANCH_PROTECTED");
    assert.ok(onMain.body.hint);

    const schema = await call(client, "describe_schema", { branch: "feat" });
    const notes = (schema.body.tables as { table: string; columns: { name: string }[] }[]).find(
      (t) => t.table === "notes",
    );
    assert.deepEqual(
      notes?.columns.map((c) => c.name),
      ["id", "body", "tag"],
    );

    const dry = await call(client, "merge_branch", { name: "feat", dryRun: true });
    assert.equal(dry.isError, false, JSON.stringify(dry.body));
    assert.equal(dry.body.dryRun, true);
    assert.equal(dry.body.blocked, false);
    assert.ok((dry.body.changes as unknown[]).length > 0);
    assert.match(String(dry.body.preview), /tag/);
    const mainCols =
      "SELECT column_name c FROM information_schema.columns WHERE table_name = 'notes' ORDER BY ordinal_position";
    assert.deepEqual(await rows(mainUrl, mainCols), [{ c: "id" }, { c: "body" }]);

    const merged = await call(client, "merge_branch", { name: "feat" });
    assert.equal(merged.isError, false, JSON.stringify(merged.body));
    assert.equal(merged.body.merged, true);
    // The schema change lands on main; the branch's rows stay on the branch (rows are never merged).
    assert.deepEqual(await rows(mainUrl, mainCols), [{ c: "id" }, { c: "body" }, { c: "tag" }]);
    assert.deepEqual(await rows(mainUrl, "SELECT id FROM notes"), [{ id: 1 }]);
  });

  test("unknown branch: a tool error with the BoughError code and hint", async () => {
    const r = await call(client, "show_branch", { name: "nope" });
    assert.equal(r.isError, true);
    assert.equal(r.body.code, "BRANCH_NOT_FOUND");
    assert.ok(r.body.hint);
  });

  test("resources: the branch list and a branch's schema", async () => {
    const list = await client.readResource({ uri: "bough://branches" });
    const names = (
      JSON.parse(String((list.contents[0] as { text: string }).text)) as { name: string }[]
    ).map((b) => b.name);
    assert.ok(names.includes("main") && names.includes("feat"));
    const schema = await client.readResource({ uri: "bough://branches/main/schema" });
    assert.match(String((schema.contents[0] as { text: string }).text), /"notes"/);
  });

  test("every call is audited as mcp with the client's name", async () => {
    const rows = await boughJson<AuditEntry[]>(home, ["audit", "--branch", "feat"]);
    const create = rows.find((r) => r.action === "branch.create");
    assert.deepEqual(create?.actor, { kind: "mcp", name: "stdio", client: "test-agent" });
    assert.ok(rows.some((r) => r.action === "branch.merge" && r.result === "ok"));
    const main = await boughJson<AuditEntry[]>(home, ["audit", "--branch", "main"]);
    assert.ok(main.some((r) => r.action === "branch.sql" && r.result === "BRANCH_PROTECTED"));
  });
});

describe("bough mcp over HTTP (/mcp on bough up)", () => {
  let up: RunningUp;
  let base: string;
  let key: string;

  before(async () => {
    key = (await boughJson<{ key: string }>(home, ["admin-key", "create", "agent-ci"])).key;
    up = await startUp(home, ["--port", String(await freePort())]);
    const st = await boughJson<{ serverUrl: string | null }>(home, ["status"]);
    assert.ok(st.serverUrl, up.output());
    base = st.serverUrl;
  });
  after(async () => {
    up?.proc.kill("SIGINT");
    await up?.exited;
  });

  test("list_branches with an admin key, audited with the key's name", async () => {
    const http = new Client({ name: "http-agent", version: "1.0.0" });
    await http.connect(
      new StreamableHTTPClientTransport(new URL("/mcp", base), {
        requestInit: { headers: { Authorization: `Bearer ${key}` } },
      }),
    );
    const r = await call(http, "create_branch", { name: "via-http" });
    assert.equal(r.isError, false, JSON.stringify(r.body));
    const { content } = (await http.callTool({
      name: "list_branches",
      arguments: {},
    })) as ToolResult;
    const names = (JSON.parse(content[0]?.text ?? "[]") as { name: string }[]).map((b) => b.name);
    assert.ok(names.includes("main") && names.includes("via-http"));
    await http.close();
    const rows = await boughJson<AuditEntry[]>(home, ["audit", "--branch", "via-http"]);
    assert.deepEqual(rows.find((a) => a.action === "branch.create")?.actor, {
      kind: "mcp",
      name: "agent-ci",
      client: "http-agent",
    });
  });

  test("no key or a wrong key: 401", async () => {
    const init = {
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: {
        protocolVersion: "2025-03-26",
        capabilities: {},
        clientInfo: { name: "x", version: "1" },
      },
    };
    for (const auth of [undefined, "Bearer bough_admin_wrong"]) {
      const res = await fetch(new URL("/mcp", base), {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          ...(auth ? { authorization: auth } : {}),
        },
        body: JSON.stringify(init),
      });
      assert.equal(res.status, 401);
      assert.equal(((await res.json()) as { code: string }).code, "UNAUTHORIZED");
    }
  });
});
