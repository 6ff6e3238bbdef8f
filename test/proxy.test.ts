import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { bough, boughJson, freePort, type RunningUp, startUp, tempHome } from "./helpers/cli.ts";

// One home, one `bough up` (with its proxy) for the whole file. Branches: main, feat (never
// idles) and nap (idles after 1 s). Other projects route the same way (`role.branch.project`).
let home: string;
let remove: () => Promise<void>;
let up: RunningUp;
let proxyPort: number;
// Each branch's own password (from its connection string): it opens that branch only.
let passwords: Record<string, string>;

interface Info {
  name: string;
  port: number;
  running: boolean;
  idle: boolean;
  suspendAfter: string;
  connectionString: string;
}
interface AuditRow {
  action: string;
  branch: string | null;
  result: string;
  actor: { kind: string; name: string } | null;
}

const PSQL = "/usr/bin/psql";

/** Config of a pg client through the proxy as user `user`. */
const viaProxy = (user: string, extra: pg.ClientConfig = {}): pg.ClientConfig => ({
  host: "127.0.0.1",
  port: proxyPort,
  user,
  password: passwordFor(user, extra.options),
  database: "postgres",
  ...extra,
});

/** The password of the branch a proxy user (or `-c bough.branch=`) picks. */
function passwordFor(user: string, options?: string): string {
  const branch = user.split(".")[1] ?? /bough\.branch=(\S+)/.exec(options ?? "")?.[1] ?? "main";
  return passwords[branch] ?? passwords.main;
}

async function withProxy<T>(
  user: string,
  fn: (c: pg.Client) => Promise<T>,
  extra: pg.ClientConfig = {},
): Promise<T> {
  const c = new pg.Client(viaProxy(user, extra));
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

const portOf = async (c: pg.Client) => Number((await c.query("SHOW port")).rows[0].port);
const audit = (branch: string) => boughJson<AuditRow[]>(home, ["audit", "--branch", branch]);
const list = () => boughJson<Info[]>(home, ["branch", "list"]);
// Branches as listed once `bough up` runs (their ports do not move while it runs).
let branches: Record<string, Info>;

/** Whether a postmaster listens on port (polled instead of running the CLI in a loop). */
const listening = (port: number) =>
  new Promise<boolean>((done) => {
    const s = connect({ port, host: "127.0.0.1" });
    s.once("connect", () => {
      s.destroy();
      done(true);
    });
    s.once("error", () => done(false));
  });

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${up.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

before(async () => {
  ({ home, remove } = await tempHome());
  await boughJson(home, ["init"]);
  await boughJson(home, ["branch", "create", "feat", "--suspend-after", "never", "--no-switch"]);
  await boughJson(home, ["branch", "create", "nap", "--suspend-after", "1s", "--no-switch"]);
  proxyPort = await freePort();
  up = await startUp(home, ["--port", String(await freePort()), "--proxy-port", String(proxyPort)]);
  assert.ok(up.output().includes(`127.0.0.1:${proxyPort}`), up.output());
  branches = Object.fromEntries((await list()).map((b) => [b.name, b]));
  passwords = Object.fromEntries(
    Object.values(branches).map((b) => [
      b.name,
      decodeURIComponent(new URL(b.connectionString).password),
    ]),
  );
});

after(async () => {
  if (up?.proc.exitCode === null) {
    up.proc.kill("SIGINT");
    await up.exited;
  }
  await remove?.();
});

describe("Postgres proxy", () => {
  test("status has proxyPort; printed connection strings go through the proxy", async () => {
    const st = await boughJson<{ proxyPort: number | null }>(home, ["status"]);
    assert.equal(st.proxyPort, proxyPort);
    const url = await boughJson<{ connectionString: string }>(home, ["branch", "url", "feat"]);
    assert.equal(
      url.connectionString,
      `postgres://postgres.feat:${encodeURIComponent(passwords.feat)}@127.0.0.1:${proxyPort}/postgres`,
    );
    assert.equal(branches.nap.suspendAfter, "1s");
    assert.equal(branches.main.suspendAfter, "never");
    assert.equal(branches.feat.suspendAfter, "never");
  });

  test("one port, two branches at once, each on its own postmaster", async () => {
    const [main, feat] = [
      new pg.Client(viaProxy("postgres")),
      new pg.Client(viaProxy("postgres.feat")),
    ];
    await Promise.all([main.connect(), feat.connect()]);
    try {
      await feat.query("CREATE TABLE only_on_feat (id int)");
      assert.equal((await feat.query("SELECT current_user AS u")).rows[0].u, "postgres");
      assert.equal(await portOf(main), branches.main.port);
      assert.equal(await portOf(feat), branches.feat.port);
      const seen = async (c: pg.Client) =>
        (await c.query("SELECT to_regclass('only_on_feat') IS NOT NULL AS t")).rows[0].t;
      assert.equal(await seen(feat), true);
      assert.equal(await seen(main), false);
    } finally {
      await Promise.all([main.end(), feat.end()]);
    }
  });

  test("role.branch.project and options=-c bough.branch= pick the target; other options pass", async () => {
    const featPort = branches.feat.port;
    assert.equal(await withProxy("postgres.feat.default", portOf), featPort);
    const r = await withProxy(
      "postgres",
      async (c) => ({
        port: await portOf(c),
        path: (await c.query("SHOW search_path")).rows[0].search_path,
        leaked: (await c.query("SELECT current_setting('bough.branch', true) AS v")).rows[0].v,
      }),
      { options: "-c bough.branch=feat -c search_path=feat_path" },
    );
    assert.deepEqual(r, { port: featPort, path: "feat_path", leaked: null });
    const o = await withProxy("postgres", portOf, {
      options: "-c bough.project=default -c bough.branch=feat",
    });
    assert.equal(o, featPort);
  });

  test("unknown branch: a FATAL ErrorResponse with SQLSTATE 3D000 and a hint, for pg and psql", async () => {
    const err = await withProxy("postgres.nope", async () => null).catch((e) => e);
    assert.ok(err instanceof Error, "refused");
    const e = err as Error & { code?: string; severity?: string; hint?: string };
    assert.equal(e.code, "3D000");
    assert.equal(e.severity, "FATAL");
    assert.match(e.message, /branch "nope" does not exist in project "default"/);
    assert.match(e.hint ?? "", /ROLE\.BRANCH/);
    const badProject = await withProxy("postgres.main.nope", async () => null).catch((x) => x);
    assert.equal((badProject as { code?: string }).code, "3D000");
  });

  test("unknown branch as psql shows it: FATAL with the message and the hint", {
    skip: !existsSync(PSQL) && `${PSQL} is absent (apt-get install postgresql-client)`,
  }, async () => {
    const r = await new Promise<{ code: number; stderr: string }>((done) =>
      execFile(
        PSQL,
        [`postgres://postgres.nope@127.0.0.1:${proxyPort}/postgres`, "-c", "SELECT 1"],
        { env: { ...process.env, PGPASSWORD: passwords.main, PGCONNECT_TIMEOUT: "10" } },
        (error, _stdout, stderr) =>
          done({ code: typeof error?.code === "number" ? error.code : 0, stderr }),
      ),
    );
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /FATAL: {2}branch "nope" does not exist in project "default"/);
    assert.match(r.stderr, /HINT: {2}connect as ROLE\.BRANCH/);
  });

  test("SCRAM passes through: Postgres refuses a wrong password and accepts the right one", async () => {
    const wrong = await withProxy("postgres.feat", async () => null, { password: "wrong" }).catch(
      (e) => e,
    );
    assert.equal((wrong as { code?: string }).code, "28P01", String(wrong));
    const method = await withProxy("postgres.feat", async (c) => {
      const r = await c.query(
        "SELECT rolpassword LIKE 'SCRAM-SHA-256$%' AS scram FROM pg_authid WHERE rolname = 'postgres'",
      );
      return r.rows[0].scram;
    });
    assert.equal(method, true);
  });

  test("a branch's password opens that branch only: not its parent nor a sibling, via the proxy or directly", async () => {
    assert.notEqual(passwords.feat, passwords.main);
    assert.notEqual(passwords.feat, passwords.nap);
    for (const [user, port] of [
      ["postgres", proxyPort],
      ["postgres.nap", proxyPort],
      ["postgres", branches.main.port],
    ] as const) {
      const err = await withProxy(user, async () => null, {
        port,
        password: passwords.feat,
      }).catch((e) => e);
      assert.equal((err as { code?: string }).code, "28P01", `${user}@${port}: ${String(err)}`);
    }
    assert.equal(await withProxy("postgres.feat", portOf), branches.feat.port);
  });

  test("a cancel request through the proxy reaches the right postmaster", async () => {
    const c = new pg.Client(viaProxy("postgres.feat"));
    await c.connect();
    try {
      // A Query object (not the promise form): pg's cancel looks it up as the active query.
      const q = new pg.Query("SELECT pg_sleep(30)");
      const done = new Promise<unknown>((resolve) => {
        q.on("error", resolve);
        q.on("end", () => resolve(null));
      });
      c.query(q);
      await until("pg_sleep to run", async () => {
        const r = await withProxy("postgres.feat", (x) =>
          x.query(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(30)%'",
          ),
        );
        return r.rows[0].n > 0;
      });
      // pg's own cancel: a new connection to the same address sending CancelRequest(pid, secret).
      const canceller = new pg.Client(viaProxy("postgres.feat")) as pg.Client & {
        cancel(client: pg.Client, query: pg.Query): void;
      };
      canceller.cancel(c, q);
      const err = await done;
      assert.equal((err as { code?: string } | null)?.code, "57014", "query_canceled");
      assert.equal((await c.query("SELECT 1 AS one")).rows[0].one, 1, "the session lives on");
    } finally {
      await c.end();
    }
  });

  test("scale to zero: an idle branch stops, lists as idle, and starts on the next connection", async () => {
    await until("nap to stop for idleness", async () => !(await listening(branches.nap.port)));
    // Listed as idle once the stop is recorded (right after the postmaster went away).
    await until("branch list to show nap idle", async () =>
      /nap\s.*\sidle\s/.test((await bough(home, ["branch", "list"])).stdout),
    );
    // The next connection starts it and is relayed once it accepts connections.
    assert.equal(
      await withProxy("postgres.nap", async (c) => (await c.query("SELECT 1 AS x")).rows[0].x),
      1,
    );
    const rows = await audit("nap");
    const byProxy = (action: string) =>
      rows.some((r) => r.action === action && r.actor?.kind === "proxy" && r.result === "ok");
    assert.ok(byProxy("branch.suspend"), JSON.stringify(rows));
    assert.ok(byProxy("branch.start"), JSON.stringify(rows));
    // An open connection keeps it running past its timeout.
    await withProxy("postgres.nap", async (c) => {
      await new Promise((r) => setTimeout(r, 2500));
      assert.equal(await listening(branches.nap.port), true);
      await c.query("SELECT 1");
    });
  });

  test("a branch stopped by hand starts on connect; branch set changes the idle timeout", async () => {
    const stopped = await boughJson<Info>(home, ["branch", "stop", "feat"]);
    assert.equal(stopped.running, false);
    assert.equal(stopped.idle, false, "stopped by hand, not for idleness");
    assert.equal(await withProxy("postgres.feat", portOf), branches.feat.port);
    const set = await boughJson<Info>(home, ["branch", "set", "feat", "--suspend-after", "10m"]);
    assert.equal(set.suspendAfter, "10m");
  });
});
