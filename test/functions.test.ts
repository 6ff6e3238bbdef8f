import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createBranch } from "../src/branches/create.ts";
import { deployFunction, functionLogs } from "../src/branches/functions.ts";
import { mergeBranch } from "../src/branches/merge.ts";
import { resetBranch } from "../src/branches/reset.ts";
import { secretsSet } from "../src/branches/secrets.ts";
import { boughJson } from "./helpers/cli.ts";
import { platformServer } from "./helpers/platform-server.ts";
import { query } from "./helpers/sql.ts";

const P = "fns";
const s = platformServer(P, {
  functions: { timeoutMs: 4_000, memoryMb: 48, maxBodyBytes: 64 << 10 },
});
let src = "";

/** Writes a module to a temp file and deploys it on a branch. */
async function deploy(branch: string, name: string, code: string, o: { verifyJwt?: boolean } = {}) {
  const file = join(src, `${name}.ts`);
  await writeFile(file, code);
  return deployFunction(s.t.ctx, { project: P, branch, name, file, ...o });
}

async function call(branch: string, name: string, init: RequestInit = {}, sub = "") {
  const { publishableKey } = await s.keysOf(branch);
  return fetch(`${s.urlOf(branch)}/functions/v1/${name}${sub}`, {
    ...init,
    headers: { apikey: publishableKey, authorization: `Bearer ${publishableKey}`, ...init.headers },
  });
}

async function logsOf(branch: string, name: string, until: (n: number) => boolean) {
  for (let i = 0; i < 50; i++) {
    const logs = await functionLogs(s.t.ctx, { project: P, branch, name });
    if (until(logs.length)) return logs;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("invocation not logged");
}

const denoProcesses = () => {
  try {
    return execFileSync("pgrep", ["-f", "__bough_main.js"], { encoding: "utf8" }).trim();
  } catch {
    return "";
  }
};

describe("edge functions", () => {
  before(async () => {
    const mainUrl = await s.start();
    src = await mkdtemp(join(tmpdir(), "bough-fn-src-"));
    await query(
      mainUrl,
      "CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes VALUES (1, 'main row')",
    );
    await query(mainUrl, "GRANT SELECT ON notes TO anon, service_role");
    await createBranch(s.t.ctx, { project: P, name: "feat", switchTo: false });
    await query(s.t.url(P, "feat"), "INSERT INTO notes VALUES (2, 'branch row')");
  });
  after(async () => {
    // Invocations are recorded after their response is sent: let the last ones land.
    await new Promise((r) => setTimeout(r, 500));
    await s.stop();
    await rm(src, { recursive: true, force: true });
    assert.equal(denoProcesses(), "", "no Deno process outlives the server");
  });

  test("a function deployed on a branch runs there, 404s on main until merge, then runs on main", async () => {
    await deploy(
      "feat",
      "hello",
      `Deno.serve(async (req) => {
      const url = new URL(req.url);
      const body = req.method === "POST" ? await req.json() : null;
      console.log("called", url.pathname);
      return Response.json({ hello: body?.name ?? "world", path: url.pathname, q: url.searchParams.get("q") });
    });`,
    );
    const feat = await s.client("feat");
    const { data, error } = await feat.functions.invoke("hello", { body: { name: "bough" } });
    assert.equal(error, null);
    assert.deepEqual(data, { hello: "bough", path: "/hello", q: null });
    const sub = await call("feat", "hello", {}, "/deep/path?q=1");
    assert.deepEqual(await sub.json(), { hello: "world", path: "/hello/deep/path", q: "1" });

    const onMain = await call("main", "hello");
    assert.equal(onMain.status, 404);
    assert.equal((await onMain.json()).code, "FUNCTION_NOT_FOUND");

    const listed = await boughJson<{ name: string; files: string[]; size: number }[]>(s.t.home, [
      "--project",
      P,
      "functions",
      "list",
      "--branch",
      "feat",
    ]);
    assert.deepEqual(
      listed.map((f) => [f.name, f.files]),
      [["hello", ["hello.ts"]]],
    );
    assert.ok(listed[0].size > 0);

    await mergeBranch(s.t.ctx, { project: P, name: "feat" });
    const merged = await call("main", "hello", {
      method: "POST",
      body: JSON.stringify({ name: "main" }),
      headers: { "content-type": "application/json" },
    });
    assert.equal(merged.status, 200);
    assert.equal((await merged.json()).hello, "main");

    const logs = await logsOf("feat", "hello", (n) => n >= 2);
    assert.equal(logs[0].outcome, "ok");
    assert.equal(logs[0].status, 200);
    assert.match(logs[0].stdout, /called \/hello\/deep\/path/);
  });

  test("a function calling the data API with its env sees its branch's rows", async () => {
    await deploy(
      "feat",
      "rows",
      `Deno.serve(async () => {
      const url = Deno.env.get("SUPABASE_URL");
      const key = Deno.env.get("SUPABASE_SERVICE_ROLE_KEY");
      const r = await fetch(url + "/rest/v1/notes?select=body&order=id", { headers: { apikey: key, authorization: "Bearer " + key } });
      return Response.json({ url, rows: await r.json() });
    });`,
    );
    const r = await call("feat", "rows");
    const body = await r.json();
    assert.equal(body.url, s.urlOf("feat"));
    assert.deepEqual(body.rows, [{ body: "main row" }, { body: "branch row" }]);
  });

  test("a function cannot read files, spawn processes or read env it was not given", async () => {
    await deploy(
      "feat",
      "escape",
      `Deno.serve(async () => {
      const out = {};
      try { await Deno.readTextFile("/etc/passwd"); out.read = "read"; } catch (e) { out.read = e.name; }
      try { await new Deno.Command("/bin/sh", { args: ["-c", "id"] }).output(); out.run = "ran"; } catch (e) { out.run = e.name; }
      for (const k of ["HOME", "PATH"]) { try { out[k] = String(Deno.env.get(k)); } catch (e) { out[k] = e.name; } }
      try { Deno.dlopen("/lib/x86_64-linux-gnu/libc.so.6", {}); out.ffi = "loaded"; } catch (e) { out.ffi = e.name; }
      return Response.json(out);
    });`,
    );
    const r = await call("feat", "escape");
    assert.deepEqual(await r.json(), {
      read: "NotCapable",
      run: "NotCapable",
      HOME: "NotCapable",
      PATH: "NotCapable",
      ffi: "NotCapable",
    });
  });

  test("a function gets its branch's secrets as env: its own, inherited ones, never production-only ones of main", async () => {
    const ctx = s.t.ctx;
    await secretsSet(ctx, { project: P, branch: "main", key: "SHARED_KEY", value: "shared-v" });
    await secretsSet(ctx, {
      project: P,
      branch: "main",
      key: "PROD_KEY",
      value: "prod-v",
      productionOnly: true,
    });
    await createBranch(ctx, { project: P, name: "sec", switchTo: false });
    await secretsSet(ctx, { project: P, branch: "sec", key: "OWN_KEY", value: "own-v" });
    const code = `Deno.serve(() => {
      const get = (k) => { try { return Deno.env.get(k) ?? null; } catch (e) { return e.name; } };
      return Response.json({ own: get("OWN_KEY"), shared: get("SHARED_KEY"), prod: get("PROD_KEY") });
    });`;
    await deploy("sec", "env", code);
    assert.deepEqual(await (await call("sec", "env")).json(), {
      own: "own-v",
      shared: "shared-v",
      // Not given to the process at all: reading it is refused like any env var it was not given.
      prod: "NotCapable",
    });
    await deploy("main", "env", code);
    assert.deepEqual(await (await call("main", "env")).json(), {
      own: "NotCapable",
      shared: "shared-v",
      prod: "prod-v",
    });
  });

  test("over the time or memory limit the process is killed and logged, and the next request works", async () => {
    await deploy(
      "feat",
      "slow",
      `let calls = 0;
      Deno.serve(async (req) => {
        calls++;
        if (new URL(req.url).searchParams.has("hang")) await new Promise(() => { setInterval(() => {}, 1000); });
        return Response.json({ calls });
      });`,
    );
    assert.deepEqual(await (await call("feat", "slow")).json(), { calls: 1 });
    const hung = await call("feat", "slow", {}, "?hang");
    assert.equal(hung.status, 504);
    assert.equal((await hung.json()).code, "WORKER_TIMEOUT");
    assert.equal((await logsOf("feat", "slow", (n) => n >= 2))[0].outcome, "timeout");
    // A new process: its counter starts again.
    assert.deepEqual(await (await call("feat", "slow")).json(), { calls: 1 });

    await deploy(
      "feat",
      "hog",
      `Deno.serve((req) => {
      if (new URL(req.url).searchParams.has("grow")) { const keep = []; for (;;) keep.push(new Array(1e6).fill(Math.random())); }
      return new Response("fine");
    });`,
    );
    const hog = await call("feat", "hog", {}, "?grow");
    assert.equal(hog.status, 546);
    assert.equal((await hog.json()).code, "WORKER_LIMIT");
    assert.equal((await logsOf("feat", "hog", (n) => n >= 1))[0].outcome, "memory");
    assert.equal(await (await call("feat", "hog")).text(), "fine");
  });

  test("bad input: uncompilable code refused at deploy, unknown function 404, oversized payload 413, no key 401", async () => {
    await assert.rejects(
      deploy("feat", "broken", `Deno.serve((req) => {\n  return new Response("x"\n});`),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, "INVALID_INPUT");
        assert.match(err.message, /does not compile: SyntaxError/);
        return true;
      },
    );
    assert.equal((await call("feat", "broken")).status, 404);
    await assert.rejects(
      deploy("feat", "bad name!", "Deno.serve(() => new Response())"),
      /invalid function name/,
    );

    const big = await call("feat", "hello", {
      method: "POST",
      body: "x".repeat(100 << 10),
      headers: { "content-type": "text/plain" },
    });
    assert.equal(big.status, 413);
    const anonymous = await fetch(`${s.urlOf("feat")}/functions/v1/hello`);
    assert.equal(anonymous.status, 401);
    const otherKey = await fetch(`${s.urlOf("feat")}/functions/v1/hello`, {
      headers: { apikey: (await s.keysOf("main")).publishableKey },
    });
    assert.equal(otherKey.status, 401);
    // verify_jwt off: anyone may call, as with Supabase's --no-verify-jwt.
    await deploy("feat", "open", "Deno.serve(() => new Response('open'))", { verifyJwt: false });
    assert.equal(await (await fetch(`${s.urlOf("feat")}/functions/v1/open`)).text(), "open");
  });

  test("a folder with a relative import works, and reset restores the functions of T0", async () => {
    const dir = join(src, "folder");
    await mkdir(join(dir, "lib"), { recursive: true });
    await writeFile(
      join(dir, "lib", "greet.ts"),
      'export const greet = (n: string): string => "hi " + n;',
    );
    await writeFile(
      join(dir, "index.ts"),
      `import { greet } from "./lib/greet.ts";\nDeno.serve(() => new Response(greet("folder")));`,
    );
    await createBranch(s.t.ctx, { project: P, name: "snap", switchTo: false });
    await deployFunction(s.t.ctx, { project: P, branch: "snap", name: "folder", dir });
    assert.equal(await (await call("snap", "folder")).text(), "hi folder");
    // hello came from main at T0 (merged there earlier); redeploy it, then reset.
    await deploy("snap", "hello", "Deno.serve(() => new Response('changed'))");
    assert.equal(await (await call("snap", "hello")).text(), "changed");
    await resetBranch(s.t.ctx, { project: P, name: "snap" });
    assert.equal((await call("snap", "folder")).status, 404);
    assert.equal((await (await call("snap", "hello")).json()).hello, "world");
  });
});
