import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { mergeBranch } from "../src/branches/merge.ts";
import { loggedRequest } from "../src/interfaces/api/request-id.ts";
import { boughJson } from "./helpers/cli.ts";
import { platformServer } from "./helpers/platform-server.ts";
import { query } from "./helpers/sql.ts";

// The server's JSON log lines (pino), to find a request's id in them.
const logLines: string[] = [];
const s = platformServer("m", {
  logger: {
    level: "info",
    stream: { write: (line: string) => void logLines.push(line) },
    serializers: { req: loggedRequest },
  },
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus' text format, simply: `# TYPE` lines and `name{a="b",...} value` samples. */
function parseMetrics(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1], type[2]);
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return { types, samples };
}

async function scrape() {
  const res = await fetch(`${s.urlOf("main").replace(/\/p\/.*$/, "")}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  const parsed = parseMetrics(await res.text());
  /** The value of the one sample of `name` with exactly these labels (undefined if none). */
  const value = (name: string, labels: Record<string, string> = {}) =>
    parsed.samples.find(
      (x) =>
        x.name === name &&
        Object.keys(x.labels).length === Object.keys(labels).length &&
        Object.entries(labels).every(([k, v]) => x.labels[k] === v),
    )?.value;
  return { ...parsed, value };
}

let mergedStatements = 0;
before(async () => {
  await s.start();
  await s.t.branch("m", "feat");
  await query(s.t.url("m", "feat"), "CREATE TABLE items (id int primary key, name text)");
  const r = await mergeBranch(s.t.ctx, { project: "m", name: "feat" });
  assert.equal(r.merged, true);
  mergedStatements = r.statements.length;
});
after(() => s.stop());

test("/metrics exposes branches, clusters, operations and platform requests", async () => {
  const { secretKey, publishableKey } = await s.keysOf("main");
  const base = s.urlOf("main");
  const root = base.replace(/\/p\/.*$/, "");
  const get = (url: string, key?: string) =>
    fetch(url, { headers: key ? { apikey: key, authorization: `Bearer ${key}` } : {} });
  assert.equal((await get(`${base}/auth/v1/settings`, publishableKey)).status, 200);
  assert.equal((await get(`${base}/rest/v1/items`, secretKey)).status, 200);
  assert.equal((await get(`${base}/rest/v1/items`, secretKey)).status, 200);
  assert.equal((await get(`${base}/rest/v1/items`)).status, 401);
  assert.equal((await get(`${root}/v1/projects`)).status, 401);
  assert.equal((await get(`${root}/nowhere`)).status, 404);

  const m = await scrape();
  for (const [name, type] of [
    ["bough_branches", "gauge"],
    ["bough_running_clusters", "gauge"],
    ["bough_operations_total", "counter"],
    ["bough_operation_duration_seconds", "histogram"],
    ["bough_platform_requests_total", "counter"],
    ["bough_platform_request_duration_seconds", "histogram"],
    ["bough_merge_statements_applied_total", "counter"],
    ["bough_clone_bytes_total", "counter"],
    ["process_cpu_seconds_total", "counter"],
  ]) {
    assert.equal(m.types.get(name), type, name);
  }

  assert.equal(m.value("bough_branches", { project: "m", state: "ready" }), 1);
  assert.equal(m.value("bough_branches", { project: "m", state: "merged" }), 1);
  assert.equal(m.value("bough_branches", { project: "m", state: "conflicted" }), 0);
  // main and feat: the merge started both.
  assert.equal(m.value("bough_running_clusters"), 2);

  assert.equal(m.value("bough_operations_total", { kind: "project.create", outcome: "ok" }), 1);
  assert.equal(m.value("bough_operations_total", { kind: "branch.create", outcome: "ok" }), 1);
  assert.equal(m.value("bough_operations_total", { kind: "branch.merge", outcome: "ok" }), 1);
  assert.equal(m.value("bough_operation_duration_seconds_count", { kind: "branch.merge" }), 1);
  assert.equal(
    m.value("bough_operation_duration_seconds_bucket", { kind: "branch.create", le: "+Inf" }),
    1,
  );
  assert.ok((m.value("bough_operation_duration_seconds_sum", { kind: "branch.create" }) ?? 0) > 0);
  assert.ok(mergedStatements > 0);
  assert.equal(m.value("bough_merge_statements_applied_total", { project: "m" }), mergedStatements);
  // One branch created: its data directory, WAL and T0, several MB of a fresh cluster.
  assert.ok((m.value("bough_clone_bytes_total", { project: "m" }) ?? 0) > 1 << 20);

  const requests = (service: string, status: string) =>
    m.value("bough_platform_requests_total", { service, status });
  assert.equal(requests("auth", "200"), 1);
  assert.equal(requests("rest", "200"), 2);
  assert.equal(requests("rest", "401"), 1);
  assert.equal(requests("management", "401"), 1);
  assert.equal(requests("dashboard", "404"), 1);
  assert.equal(m.value("bough_platform_request_duration_seconds_count", { service: "rest" }), 3);
  // Labels never carry a project or branch name: the series stay bounded.
  for (const x of m.samples.filter((x) => x.name.startsWith("bough_platform_"))) {
    for (const k of Object.keys(x.labels)) assert.ok(["service", "status", "le"].includes(k), k);
  }
});

test("operations run by the CLI in another process count at the next scrape", async () => {
  await boughJson(s.t.home, ["--project", "m", "branch", "stop", "feat"]);
  const m = await scrape();
  assert.equal(m.value("bough_operations_total", { kind: "branch.stop", outcome: "ok" }), 1);
  assert.equal(m.value("bough_running_clusters"), 1);
  // Counters never go back: the lines already counted are not counted twice.
  assert.equal(m.value("bough_operations_total", { kind: "branch.merge", outcome: "ok" }), 1);
  // The previous scrape counts as a request like any other.
  assert.ok(
    (m.value("bough_platform_requests_total", { service: "dashboard", status: "200" }) ?? 0) >= 1,
  );
});

test("each response carries its request id: the caller's when sane, else a fresh one", async () => {
  const url = `${s.urlOf("main")}/auth/v1/settings`;
  const passed = await fetch(`${url}?apikey=not-for-logs`, {
    headers: { "x-request-id": "trace-42.a" },
  });
  assert.equal(passed.headers.get("x-request-id"), "trace-42.a");
  const refused = await fetch(url, { headers: { "x-request-id": "no spaces allowed" } });
  assert.match(refused.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
  const fresh = await fetch(url);
  const id = fresh.headers.get("x-request-id") ?? "";
  assert.match(id, /^[0-9a-f-]{36}$/);
  assert.notEqual(id, refused.headers.get("x-request-id"));
  // The JSON log names the request by the same id.
  const logged = logLines.map((l) => JSON.parse(l) as { reqId?: string; msg?: string });
  assert.ok(logged.some((l) => l.reqId === "trace-42.a" && l.msg === "request completed"));
  assert.ok(logged.some((l) => l.reqId === "trace-42.a" && l.msg === "incoming request"));
  // Query strings (keys, tokens) never reach the log.
  assert.ok(!logLines.some((l) => l.includes("not-for-logs")));
});
