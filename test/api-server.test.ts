import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { SignJWT } from "jose";
import { bough, boughJson, startUp, tempHome } from "./helpers/cli.ts";
import { supabase } from "./helpers/supabase.ts";

interface Keys {
  apiUrl: string;
  publishableKey: string;
  secretKey: string;
}

let home: string;
let remove: () => Promise<void>;
let up: ChildProcess;
let upExited: Promise<number | null>;
let upOutput: () => string = () => "";
let port: number;

const freePort = () =>
  new Promise<number>((done) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => done(p));
    });
  });

const keys = (name: string, ...more: string[]) =>
  boughJson<Keys>(home, ["branch", "keys", name, ...more]);

/** A request to a branch's auth settings with the given headers; returns status and JSON body. */
async function call(
  url: string,
  o: { headers?: Record<string, string>; method?: string; body?: string; path?: string } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}${o.path ?? "/auth/v1/settings"}`, {
    method: o.method ?? "GET",
    headers: o.headers,
    body: o.body,
  });
  assert.match(res.headers.get("content-type") ?? "", /application\/json/);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

before(async () => {
  ({ home, remove } = await tempHome());
  await boughJson(home, ["init"]);
});
after(async () => {
  if (up && up.exitCode === null) {
    up.kill("SIGINT");
    await upExited;
  }
  await remove?.();
});

describe("bough up: one HTTP server for every branch", () => {
  test("`branch keys --json` contract, before up runs; keys in 0600 files", async () => {
    const k = await keys("main");
    assert.deepEqual(Object.keys(k).sort(), ["apiUrl", "publishableKey", "secretKey"]);
    assert.equal(k.apiUrl, "http://127.0.0.1:8420/p/default/b/main");
    assert.match(k.publishableKey, /^sb_publishable_[A-Za-z0-9_-]{32}$/);
    assert.match(k.secretKey, /^sb_secret_[A-Za-z0-9_-]{32}$/);
    assert.deepEqual(await keys("main"), k, "stable until rotated");
    const show = await boughJson<Keys & { name: string }>(home, ["branch", "show", "main"]);
    assert.deepEqual(
      [show.apiUrl, show.publishableKey, show.secretKey],
      [k.apiUrl, k.publishableKey, k.secretKey],
    );
    const text = await bough(home, ["branch", "show", "main"]);
    assert.match(text.stdout, new RegExp(`secret key: +${k.secretKey}`));

    const dir = join(home, "secrets", "projects", "default-1");
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(join(home, "secrets")).mode & 0o777, 0o700);
    const files = readdirSync(dir).sort();
    assert.deepEqual(files, ["branch-1-keys.json", "jwt-secret", "postgres-password"]);
    for (const f of files) assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600, f);
  });

  test("`up --port N` serves main's API and prints it", async () => {
    port = await freePort();
    const running = await startUp(home, ["--port", String(port)]);
    up = running.proc;
    upExited = running.exited;
    upOutput = running.output;
    const apiUrl = `http://127.0.0.1:${port}/p/default/b/main`;
    assert.match(upOutput(), new RegExp(`^api: ${apiUrl}$`, "m"), upOutput());
    const k = await keys("main");
    assert.equal(k.apiUrl, apiUrl, "keys report where up serves");
    const r = await call(apiUrl, { headers: { apikey: k.publishableKey } });
    assert.equal(r.status, 200);
    assert.equal(r.body.mailer_autoconfirm, true);
    // The printed URL is a supabase-js base URL: the client keeps the path prefix.
    const signUp = await supabase(apiUrl, k.publishableKey).auth.signUp({
      email: "up@example.com",
      password: "up password",
    });
    assert.equal(signUp.error, null);
    assert.equal(signUp.data.user?.email, "up@example.com");
  });

  test("bad keys, bad tokens, huge headers and malformed JSON get a 4xx JSON error, never a 500", async () => {
    const k = await keys("main");
    const url = k.apiUrl;
    const sb = supabase(url, k.publishableKey);
    const session = (
      await sb.auth.signInWithPassword({ email: "up@example.com", password: "up password" })
    ).data.session;
    const token = String(session?.access_token);
    const [h, p, sig] = token.split(".");
    const claims = JSON.parse(Buffer.from(p, "base64url").toString());
    const secret = new TextEncoder().encode(
      readFileSync(join(home, "secrets", "projects", "default-1", "jwt-secret"), "utf8"),
    );
    const now = Math.floor(Date.now() / 1000);
    const forged = Buffer.from(JSON.stringify({ ...claims, role: "service_role" })).toString(
      "base64url",
    );
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString("base64url")}.${p}.`;
    const expired = await new SignJWT({ ...claims, exp: now - 60, iat: now - 3660 })
      .setProtectedHeader({ alg: "HS256" })
      .sign(secret);
    const wrongSecret = await new SignJWT(claims)
      .setProtectedHeader({ alg: "HS256" })
      .sign(new TextEncoder().encode("x".repeat(43)));
    const user = (bearer: string) => ({
      path: "/auth/v1/user",
      headers: { apikey: k.publishableKey, authorization: `Bearer ${bearer}` },
    });

    assert.equal((await call(url, user(token))).status, 200, "the genuine token works");
    const cases: [string, Parameters<typeof call>[1], number][] = [
      ["no key", {}, 401],
      ["wrong key", { headers: { apikey: "sb_publishable_nope" } }, 401],
      ["tampered payload", user(`${h}.${forged}.${sig}`), 401],
      ["tampered signature", user(`${h}.${p}.${sig.slice(0, -2)}AA`), 401],
      ["alg none", user(none), 401],
      ["expired", user(expired), 401],
      ["wrong secret", user(wrongSecret), 401],
      ["garbage token", user("not-a-jwt"), 401],
      ["huge header", { headers: { apikey: k.publishableKey, "x-big": "a".repeat(40_000) } }, 431],
      [
        "malformed JSON",
        {
          path: "/auth/v1/signup",
          method: "POST",
          body: '{"email": "x@example.com", ',
          headers: { apikey: k.publishableKey, "content-type": "application/json" },
        },
        400,
      ],
      [
        "invalid body",
        {
          path: "/auth/v1/signup",
          method: "POST",
          body: '{"email": 5}',
          headers: { apikey: k.publishableKey, "content-type": "application/json" },
        },
        400,
      ],
      [
        "unknown route",
        { path: "/auth/v1/nothing-here", headers: { apikey: k.publishableKey } },
        404,
      ],
      ["unknown service", { path: "/nothing/v1/x", headers: { apikey: k.publishableKey } }, 404],
    ];
    for (const [name, o, status] of cases) {
      const r = await call(url, o);
      assert.equal(r.status, status, `${name}: ${JSON.stringify(r.body)}`);
      assert.ok(r.body.msg ?? r.body.message ?? r.body.error, `${name} explains itself`);
    }
    const expiredBody = (await call(url, user(expired))).body;
    assert.deepEqual(expiredBody, {
      code: 401,
      error_code: "bad_jwt",
      msg: "invalid JWT: token is expired",
    });
    const noKey = await call(url);
    assert.deepEqual(noKey.body, {
      code: 401,
      error_code: "bad_jwt",
      msg: "No API key found in request",
    });
  });

  test("a stopped branch starts on its first request; keys are per branch; rotate; a deleted branch is 404", async () => {
    await boughJson(home, ["branch", "create", "feat", "--no-switch"]);
    await boughJson(home, ["branch", "stop", "feat"]);
    // main too: up did not start it (init did), so only a request can make it up's to stop.
    await boughJson(home, ["branch", "stop", "main"]);
    assert.equal(
      (await boughJson<{ running: boolean }>(home, ["branch", "show", "main"])).running,
      false,
    );
    assert.equal(
      (await boughJson<{ running: boolean }>(home, ["branch", "show", "feat"])).running,
      false,
    );
    const feat = await keys("feat");
    const main = await keys("main");
    assert.equal(feat.apiUrl, `http://127.0.0.1:${port}/p/default/b/feat`);
    assert.notEqual(feat.publishableKey, main.publishableKey);
    const started = Date.now();
    assert.equal(
      (await call(feat.apiUrl, { headers: { apikey: feat.publishableKey } })).status,
      200,
    );
    const startMs = Date.now() - started;
    assert.equal(
      (await boughJson<{ running: boolean }>(home, ["branch", "show", "feat"])).running,
      true,
    );
    process.stdout.write(`# first request to a stopped branch answered in ${startMs} ms\n`);

    assert.equal(
      (await call(main.apiUrl, { headers: { apikey: main.publishableKey } })).status,
      200,
    );
    const cross = await call(main.apiUrl, { headers: { apikey: feat.publishableKey } });
    assert.deepEqual(cross, {
      status: 401,
      body: { code: 401, error_code: "bad_jwt", msg: "Invalid API key" },
    });
    assert.equal((await call(feat.apiUrl, { headers: { apikey: main.secretKey } })).status, 401);

    const rotated = await keys("feat", "--rotate");
    assert.notEqual(rotated.publishableKey, feat.publishableKey);
    assert.notEqual(rotated.secretKey, feat.secretKey);
    assert.equal(
      (await call(feat.apiUrl, { headers: { apikey: feat.publishableKey } })).status,
      401,
      "old key dead at once",
    );
    assert.equal(
      (await call(feat.apiUrl, { headers: { apikey: rotated.publishableKey } })).status,
      200,
    );

    await boughJson(home, ["branch", "delete", "feat"]);
    const gone = await call(feat.apiUrl, { headers: { apikey: rotated.publishableKey } });
    assert.equal(gone.status, 404);
    assert.equal(gone.body.error_code, "branch_not_found");
    assert.deepEqual(
      readdirSync(join(home, "secrets", "projects", "default-1"))
        .filter((f) => f.startsWith("branch-"))
        .sort(),
      ["branch-1-keys.json"],
      "its keys went with it",
    );
    const unknown = await call(`http://127.0.0.1:${port}/p/nope/b/main`, {
      headers: { apikey: main.publishableKey },
    });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error_code, "project_not_found");
  });

  test("Ctrl-C closes the server and stops the branches requests started", async () => {
    up.kill("SIGINT");
    assert.equal(await upExited, 0, upOutput());
    await assert.rejects(fetch(`http://127.0.0.1:${port}/`), "nothing listens any more");
    assert.match(upOutput(), /^stopped feat, main$/m, upOutput());
    assert.equal(
      (await boughJson<{ running: boolean }>(home, ["branch", "show", "main"])).running,
      false,
    );
  });
});
