import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { type Ctx, openContext } from "../src/branches/context.ts";
import { readAudit } from "../src/control/audit.ts";
import { Bough } from "../src/sdk/index.ts";
import { type ManagementServer, managementServer } from "./helpers/management.ts";
import { call } from "./helpers/mcp.ts";

// One `bough up` for the file; everything happens on main of the default project.
let server: ManagementServer;
const api: ManagementServer["api"] = (...a) => server.api(...a);
const B = "/v1/projects/default/branches/main";
const NOPE = "/v1/projects/default/branches/nope";
const SECRET_VALUE = "s3cr3t-VALUE-8f1d2c";
/** A JSON array answer, typed. */
const rows = <T>(body: unknown) => body as T[];

const HELLO = {
  "index.ts": `import { greeting } from "./greeting.ts";
Deno.serve(() => new Response(\`\${greeting}:\${Deno.env.get("API_TOKEN") === undefined ? "none" : "set"}\`));
`,
  "greeting.ts": `export const greeting = "hello from the API";\n`,
};

let ctx: Ctx;
/** The audit log as `bough audit` reads it, in process (no CLI start per look). */
const audit = (branch?: string) => readAudit(ctx.db, { project: "default", branch });

before(async () => {
  server = await managementServer();
  ctx = await openContext({ home: server.home });
});
after(async () => {
  ctx?.close();
  await server?.stop();
});

/** Every new route, with a body it accepts. */
const ROUTES: { method: string; path: string; body?: unknown }[] = [
  { method: "GET", path: "/functions" },
  { method: "PUT", path: "/functions/hello", body: { files: HELLO } },
  { method: "DELETE", path: "/functions/hello" },
  { method: "GET", path: "/functions/hello/invocations" },
  { method: "GET", path: "/schedules" },
  { method: "POST", path: "/schedules", body: { name: "n", cron: "0 0 1 1 *", function: "f" } },
  { method: "PATCH", path: "/schedules/n", body: { cron: "0 0 1 1 *" } },
  { method: "POST", path: "/schedules/n/pause" },
  { method: "POST", path: "/schedules/n/resume" },
  { method: "DELETE", path: "/schedules/n" },
  { method: "GET", path: "/schedules/n/runs" },
  { method: "POST", path: "/schedules/n/run" },
  { method: "GET", path: "/secrets" },
  { method: "PUT", path: "/secrets/API_TOKEN", body: { value: "v" } },
  { method: "DELETE", path: "/secrets/API_TOKEN" },
  { method: "GET", path: "/email/outbox" },
  { method: "GET", path: "/email/templates" },
  { method: "PUT", path: "/email/templates/recovery", body: { subject: "s", body: "b" } },
];

describe("management API: functions, schedules, secrets, email", () => {
  test("no key or a wrong key: 401 on every route; an unknown branch: 404", async () => {
    for (const r of ROUTES) {
      for (const key of [null, "bough_admin_wrong"]) {
        const res = await api(r.method, `${B}${r.path}`, { body: r.body, key });
        assert.equal(res.status, 401, `${r.method} ${r.path}`);
        assert.equal(res.body.code, "UNAUTHORIZED");
        assert.equal(res.headers.get("www-authenticate"), 'Bearer realm="bough"');
      }
      const res = await api(r.method, `${NOPE}${r.path}`, { body: r.body });
      assert.equal(res.status, 404, `${r.method} ${r.path}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.code, "BRANCH_NOT_FOUND", `${r.method} ${r.path}`);
      assert.ok(res.body.hint);
    }
    for (const key of [null, "bough_admin_wrong"]) {
      const res = await api("GET", "/v1/projects/default/secrets/policy", { key });
      assert.equal(res.status, 401);
    }
    const policy = await api("GET", "/v1/projects/nope/secrets/policy");
    assert.equal(policy.status, 404);
    assert.equal(policy.body.code, "PROJECT_NOT_FOUND");
  });

  test("bad names, bad bodies, malformed JSON, oversized bodies: exact statuses and codes", async () => {
    const cases: [string, string, unknown, number, string][] = [
      ["PUT", "/functions/Bad%20Name!", { files: HELLO }, 400, "INVALID_NAME"],
      ["PUT", "/functions/hello", { files: {} }, 400, "INVALID_INPUT"],
      ["PUT", "/functions/hello", { files: HELLO, entrypoint: "main.ts" }, 400, "INVALID_INPUT"],
      ["PUT", "/functions/hello", { files: { "../x.ts": "1" } }, 400, "INVALID_INPUT"],
      ["GET", "/functions/hello/invocations?limit=0", undefined, 400, "INVALID_INPUT"],
      [
        "POST",
        "/schedules",
        { name: "Bad_Name", cron: "* * * * *", url: "http://x" },
        400,
        "INVALID_NAME",
      ],
      [
        "POST",
        "/schedules",
        { name: "ok", cron: "not cron", url: "http://x" },
        400,
        "INVALID_INPUT",
      ],
      [
        "POST",
        "/schedules",
        { name: "ok", cron: "* * * * *", url: "ftp://x" },
        400,
        "INVALID_INPUT",
      ],
      ["POST", "/schedules", { name: "ok", url: "http://x" }, 400, "INVALID_INPUT"],
      ["PATCH", "/schedules/missing", { cron: "* * * * *" }, 404, "SCHEDULE_NOT_FOUND"],
      ["POST", "/schedules/missing/run", undefined, 404, "SCHEDULE_NOT_FOUND"],
      ["PUT", "/secrets/1ABC", { value: "v" }, 400, "INVALID_NAME"],
      ["PUT", "/secrets/SUPABASE_URL", { value: "v" }, 400, "INVALID_NAME"],
      ["PUT", "/secrets/OK", {}, 400, "INVALID_INPUT"],
      ["DELETE", "/secrets/MISSING", undefined, 400, "INVALID_INPUT"],
      ["DELETE", "/functions/missing", undefined, 404, "FUNCTION_NOT_FOUND"],
      ["PUT", "/email/templates/nope", { subject: "s", body: "b" }, 400, "INVALID_INPUT"],
      ["PUT", "/email/templates/recovery", { subject: "", body: "b" }, 400, "INVALID_INPUT"],
    ];
    for (const [method, path, body, status, code] of cases) {
      const r = await api(method, `${B}${path}`, { body });
      assert.equal(r.status, status, `${method} ${path}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.code, code, `${method} ${path}`);
      assert.ok(r.body.message && r.body.hint, `${method} ${path}`);
    }
    const policy = await api("PUT", "/v1/projects/default/secrets/policy", {
      body: { policy: "share" },
    });
    assert.equal(policy.status, 400);
    assert.equal(policy.body.code, "INVALID_INPUT");
    for (const path of ["/secrets/OK", "/functions/hello", "/email/templates/recovery"]) {
      const r = await api("PUT", `${B}${path}`, { raw: '{"value": ' });
      assert.equal(r.status, 400, path);
      assert.equal(r.body.code, "INVALID_INPUT");
    }
    const big = await api("PUT", `${B}/secrets/OK`, {
      raw: JSON.stringify({ value: "x".repeat(2 << 20) }),
    });
    assert.equal(big.status, 413);
    assert.equal(big.body.code, "PAYLOAD_TOO_LARGE");
    // A deploy may carry up to 10 MiB of source, and no more.
    const huge = await api("PUT", `${B}/functions/hello`, {
      raw: JSON.stringify({ files: { "index.ts": "x".repeat(12 << 20) } }),
    });
    assert.equal(huge.status, 413);
    assert.equal(huge.body.code, "PAYLOAD_TOO_LARGE");
    const tooMuch = await api("PUT", `${B}/functions/hello`, {
      body: {
        files: { "index.ts": `// ${"x".repeat(10 << 20)}\nDeno.serve(() => new Response(""));` },
      },
    });
    assert.equal(tooMuch.status, 400);
    assert.equal(tooMuch.body.code, "INVALID_INPUT");
  });

  test("a secret set through the API is listed without its value, and its value is logged nowhere", async () => {
    const set = await api("PUT", `${B}/secrets/API_TOKEN`, { body: { value: SECRET_VALUE } });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.deepEqual(set.body, { key: "API_TOKEN", branch: "main", productionOnly: false });
    const list = await api("GET", `${B}/secrets`);
    assert.equal(list.status, 200);
    const item = (list.body as unknown as { key: string }[]).find((s) => s.key === "API_TOKEN");
    assert.deepEqual(Object.keys(item ?? {}).sort(), [
      "exposure",
      "inherited",
      "key",
      "productionOnly",
      "source",
      "updatedAt",
    ]);
    assert.equal((item as { exposure?: string }).exposure, "value");
    assert.ok(!JSON.stringify(list.body).includes(SECRET_VALUE));

    const log = audit("main");
    const row = log.find((r) => r.action === "secrets.set" && r.result === "ok");
    assert.deepEqual(row?.actor, { kind: "api", name: "admin", client: null });
    assert.deepEqual(row?.args, { secret: "API_TOKEN", productionOnly: false });
    assert.ok(!JSON.stringify(log).includes(SECRET_VALUE), "the value is not in the log log");

    const p = await api("PUT", "/v1/projects/default/secrets/policy", { body: { policy: "mask" } });
    assert.deepEqual(p.body, { project: "default", policy: "mask" });
    assert.equal((await api("GET", "/v1/projects/default/secrets/policy")).body.policy, "mask");
    const policyRows = audit();
    assert.equal(
      policyRows.filter((r) => r.action === "secrets.policy").length,
      1,
      "setting the policy is audited, reading it is not",
    );
    await api("PUT", "/v1/projects/default/secrets/policy", { body: { policy: "copy" } });
  });

  test("functions: deploy with files in the body, answer at /functions/v1/NAME, list, invocations", async () => {
    const d = await api("PUT", `${B}/functions/hello`, {
      body: { files: HELLO, verifyJwt: false },
    });
    assert.equal(d.status, 200, JSON.stringify(d.body));
    assert.deepEqual(d.body, {
      name: "hello",
      branch: "main",
      created: true,
      files: ["greeting.ts", "index.ts"],
    });
    const res = await fetch(`${server.base}/p/default/b/main/functions/v1/hello`);
    // The secret set through the API reaches the function as env.
    assert.equal(await res.text(), "hello from the API:set");
    assert.equal(res.status, 200);

    const list = await api("GET", `${B}/functions`);
    const fn = (list.body as unknown as { name: string; verifyJwt: boolean; files: string[] }[])[0];
    assert.equal(fn.name, "hello");
    assert.equal(fn.verifyJwt, false);
    assert.deepEqual(fn.files, ["greeting.ts", "index.ts"]);

    const logs = await api("GET", `${B}/functions/hello/invocations?limit=5`);
    assert.equal(logs.status, 200);
    const inv = (
      logs.body as unknown as { status: number; outcome: string; startedAt: string }[]
    )[0];
    assert.equal(inv.status, 200);
    assert.equal(inv.outcome, "ok");
    assert.ok(!Number.isNaN(Date.parse(inv.startedAt)));

    const broken = await api("PUT", `${B}/functions/broken`, {
      body: { files: { "index.ts": 'Deno.serve((req) => {\n  return new Response("x"\n});' } },
    });
    assert.equal(broken.status, 400);
    assert.equal(broken.body.code, "INVALID_INPUT");
    const again = await api("PUT", `${B}/functions/hello`, {
      body: { files: HELLO, verifyJwt: false },
    });
    assert.equal(again.body.created, false);

    const log = audit("main");
    const deploy = log.find((r) => r.action === "function.deploy" && r.result === "ok");
    assert.deepEqual(deploy?.actor, { kind: "api", name: "admin", client: null });
    assert.deepEqual(deploy?.args.files, ["greeting.ts", "index.ts"]);
    assert.ok(!JSON.stringify(deploy).includes("Deno.serve"), "sources are not audited");
    assert.ok(log.some((r) => r.action === "function.deploy" && r.result === "INVALID_INPUT"));
  });

  test("schedules: create, list, run now, runs, pause, resume, update, delete", async () => {
    const body = { name: "nightly", cron: "0 3 1 1 *", function: "hello", payload: { a: 1 } };
    const c = await api("POST", `${B}/schedules`, { body });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    assert.equal(c.body.active, true);
    assert.equal(c.body.targetKind, "function");
    assert.deepEqual(c.body.payload, { a: 1 });
    const dup = await api("POST", `${B}/schedules`, { body });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.code, "SCHEDULE_EXISTS");
    assert.deepEqual(
      rows<{ name: string }>((await api("GET", `${B}/schedules`)).body).map((j) => j.name),
      ["nightly"],
    );

    const run = await api("POST", `${B}/schedules/nightly/run`);
    assert.equal(run.status, 200, JSON.stringify(run.body));
    assert.equal(run.body.status, "succeeded", JSON.stringify(run.body));
    assert.equal(run.body.httpStatus, 200);
    const runs = await api("GET", `${B}/schedules/nightly/runs?limit=5`);
    assert.deepEqual(
      rows<{ id: number }>(runs.body).map((r) => r.id),
      [run.body.id],
    );

    const paused = await api("POST", `${B}/schedules/nightly/pause`);
    assert.equal(paused.body.active, false);
    assert.match(String(paused.body.pausedReason), /resume/);
    const refused = await api("POST", `${B}/schedules/nightly/run`);
    assert.equal(refused.status, 409);
    assert.equal(refused.body.code, "BRANCH_BAD_STATE");
    assert.equal((await api("POST", `${B}/schedules/nightly/resume`)).body.active, true);

    const u = await api("PATCH", `${B}/schedules/nightly`, { body: { cron: "0 4 1 1 *" } });
    assert.equal(u.status, 200, JSON.stringify(u.body));
    assert.equal(u.body.cron, "0 4 1 1 *");
    assert.equal(u.body.target, "hello");

    const del = await api("DELETE", `${B}/schedules/nightly`);
    assert.deepEqual(del.body, { name: "nightly", deleted: true });
    assert.equal((await api("GET", `${B}/schedules/nightly/runs`)).status, 404);

    const log = audit("main");
    const actions = log
      .filter((r) => r.action.startsWith("schedule.") && r.result === "ok")
      .map((r) => r.action);
    assert.deepEqual(actions, [
      "schedule.create",
      "schedule.run",
      "schedule.pause",
      "schedule.resume",
      "schedule.update",
      "schedule.delete",
    ]);
    for (const r of log.filter((r) => r.action.startsWith("schedule."))) {
      assert.deepEqual(r.actor, { kind: "api", name: "admin", client: null });
    }
  });

  test("email: set a template, mail rendered from it is in the outbox (held: no SMTP here)", async () => {
    const set = await api("PUT", `${B}/email/templates/recovery`, {
      body: { subject: "Reset via the API", body: "<p>{{ .ConfirmationURL }}</p>" },
    });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    const templates = await api("GET", `${B}/email/templates`);
    assert.equal(
      rows<{ type: string; subject: string }>(templates.body).find((t) => t.type === "recovery")
        ?.subject,
      "Reset via the API",
    );
    assert.deepEqual((await api("GET", `${B}/email/outbox`)).body, []);

    // Sign-up confirms at once (autoconfirm); asking for a password reset sends mail.
    const keys = await api("GET", `${B}/keys`);
    const auth = (path: string, body: unknown) =>
      fetch(`${server.base}/p/default/b/main/auth/v1/${path}`, {
        method: "POST",
        headers: { apikey: String(keys.body.publishableKey), "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const email = "ann@example.com";
    const signup = await auth("signup", { email, password: "a long password" });
    assert.equal(signup.status, 200, await signup.text());
    const recover = await auth("recover", { email });
    assert.equal(recover.status, 200, await recover.text());
    const outbox = await api("GET", `${B}/email/outbox?limit=10`);
    assert.equal(outbox.status, 200);
    assert.equal(outbox.body.length, 1);
    const [mail] = outbox.body as { to: string; subject: string; delivered: boolean }[];
    assert.equal(mail.to, "ann@example.com");
    assert.equal(mail.subject, "Reset via the API");
    assert.equal(mail.delivered, false);

    const log = audit("main");
    const t = log.find((r) => r.action === "email.template.set" && r.result === "ok");
    assert.deepEqual(t?.actor, { kind: "api", name: "admin", client: null });
    assert.ok(log.some((r) => r.action === "email.outbox.read" && r.actor?.kind === "api"));
  });

  test("the SDK makes the same calls; the server log never saw the secret", async () => {
    const sdk = new Bough({ url: server.base, key: server.key });
    assert.deepEqual(
      (await sdk.functions.list("default", "main")).map((f) => f.name),
      ["hello"],
    );
    await sdk.secrets.set("default", "main", "OTHER", {
      value: SECRET_VALUE,
      productionOnly: true,
    });
    const listed = await sdk.secrets.list("default", "main");
    assert.equal(listed.find((s) => s.key === "OTHER")?.productionOnly, true);
    assert.deepEqual(await sdk.secrets.unset("default", "main", "OTHER"), { key: "OTHER" });
    const job = await sdk.schedules.create("default", "main", {
      name: "sdk-job",
      cron: "0 0 1 1 *",
      url: "http://127.0.0.1:9/hook",
    });
    assert.equal(job.targetKind, "url");
    assert.equal((await sdk.schedules.pause("default", "main", "sdk-job")).active, false);
    await sdk.schedules.delete("default", "main", "sdk-job");
    assert.equal((await sdk.email.outbox("default", "main")).length, 1);
    assert.deepEqual(await sdk.functions.delete("default", "main", "hello"), {
      name: "hello",
      branch: "main",
    });
    assert.ok(!server.up.output().includes(SECRET_VALUE));
  });

  test("MCP over /mcp: deploy_function, list_functions, list_schedules, read_outbox, audited as the agent", async () => {
    const mcp = new Client({ name: "platform-agent", version: "1.0.0" });
    await mcp.connect(
      new StreamableHTTPClientTransport(new URL("/mcp", server.base), {
        requestInit: { headers: { Authorization: `Bearer ${server.key}` } },
      }),
    );
    try {
      const source = 'Deno.serve(() => new Response("from mcp"));';
      const d = await call(mcp, "deploy_function", {
        branch: "main",
        name: "mcp-fn",
        source,
        verifyJwt: false,
      });
      assert.equal(d.isError, false, JSON.stringify(d.body));
      const res = await fetch(`${server.base}/p/default/b/main/functions/v1/mcp-fn`);
      assert.equal(await res.text(), "from mcp");
      const fns = await call(mcp, "list_functions", { branch: "main" });
      assert.deepEqual(
        rows<{ name: string }>(fns.body.functions).map((f) => f.name),
        ["mcp-fn"],
      );
      const jobs = await call(mcp, "list_schedules", { branch: "main" });
      assert.deepEqual(jobs.body.schedules, []);
      const outbox = await call(mcp, "read_outbox", { branch: "main" });
      assert.equal(rows(outbox.body.outbox).length, 1);
      const nope = await call(mcp, "list_functions", { branch: "nope" });
      assert.equal(nope.isError, true);
      assert.equal(nope.body.code, "BRANCH_NOT_FOUND");
    } finally {
      await mcp.close();
    }
    const agent = { kind: "mcp", name: "admin", client: "platform-agent" };
    const log = audit("main");
    const deploy = log.find((r) => r.action === "function.deploy" && r.args.function === "mcp-fn");
    assert.deepEqual(deploy?.actor, agent);
    assert.equal(deploy?.result, "ok");
    assert.ok(!JSON.stringify(deploy).includes("from mcp"), "the source is not audited");
    assert.ok(
      log.some((r) => r.action === "email.outbox.read" && r.actor?.client === "platform-agent"),
    );
  });
});
