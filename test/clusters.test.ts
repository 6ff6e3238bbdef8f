import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import pg from "pg";
import { detectCloneDriver, fsName } from "../src/clusters/clone-driver.ts";
import {
  type ClusterCtx,
  clusterPid,
  clusterPort,
  connectionString,
  initCluster,
  killCluster,
  startCluster,
  stopCluster,
} from "../src/clusters/cluster.ts";
import { exclusiveBytes } from "../src/clusters/disk-usage.ts";
import { cloneRunning, cloneStopped } from "../src/clusters/online-clone.ts";
import { isPortFree, PORT_MAX, PORT_MIN, pickFreePort } from "../src/clusters/ports.ts";
import { clusterProcesses, waitGone } from "../src/clusters/processes.ts";
import type { BoughError } from "../src/core/errors.ts";
import { testClusterCtx } from "./helpers/scratch-cluster.ts";

const PASSWORD = "p@ss word/with:odd?chars";
let ctx: ClusterCtx;
let base: string;
const started: string[] = [];

async function q<T extends pg.QueryResultRow = Record<string, unknown>>(
  port: number,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const c = new pg.Client({ connectionString: connectionString({ port, password: PASSWORD }) });
  await c.connect();
  try {
    return (await c.query<T>(sql, params)).rows;
  } finally {
    await c.end();
  }
}

async function start(dataDir: string): Promise<number> {
  const port = await pickFreePort(new Set());
  started.push(dataDir);
  await startCluster(ctx, { dataDir, port, logFile: `${dataDir}.log` });
  return port;
}

const src = () => join(base, "src");
let srcPort = 0;

before(async () => {
  ctx = await testClusterCtx();
  base = await mkdtemp(join(tmpdir(), "bough-clusters-test-"));
  if (ctx.runAs) await chown(base, ctx.runAs.uid, ctx.runAs.gid);
});

after(async () => {
  for (const d of started) await killCluster(d).catch(() => {});
  await rm(base, { recursive: true, force: true });
});

test("init, start, connect with the password, stop", async () => {
  await initCluster(ctx, { dataDir: src(), password: PASSWORD, noSync: true, owner: ctx.runAs });
  srcPort = await start(src());
  assert.notEqual(clusterPid(src()), null);
  const [s] = await q<Record<string, string>>(
    srcPort,
    `SELECT current_setting('shared_buffers') AS sb, current_setting('listen_addresses') AS la,
            current_setting('data_checksums') AS cs, current_setting('wal_level') AS wl,
            current_setting('unix_socket_directories') AS us, current_user AS u`,
  );
  assert.deepEqual(s, {
    sb: "16MB",
    la: "127.0.0.1",
    cs: "off",
    wl: "logical",
    us: "",
    u: "postgres",
  });
  const bad = new pg.Client({
    connectionString: connectionString({ port: srcPort, password: "wrong" }),
  });
  await assert.rejects(bad.connect(), /password authentication failed/);
  // Starting again on the same port is a no-op; on another port it is refused.
  await startCluster(ctx, { dataDir: src(), port: srcPort, logFile: `${src()}.log` });
  await stopCluster(ctx, { dataDir: src() });
  assert.equal(clusterPid(src()), null);
  await stopCluster(ctx, { dataDir: src() }); // no-op
  srcPort = await start(src());
});

test("a start that fails says why, with the log's tail, and leaves nothing running", async () => {
  const blocker: Server = createServer();
  await new Promise<void>((r) => blocker.listen({ host: "127.0.0.1", port: 0 }, () => r()));
  const port = (blocker.address() as { port: number }).port;
  const dataDir = join(base, "blocked");
  await initCluster(ctx, { dataDir, password: PASSWORD, noSync: true, owner: ctx.runAs });
  try {
    await assert.rejects(
      startCluster(ctx, { dataDir, port, logFile: `${dataDir}.log` }),
      (e: BoughError) => {
        assert.equal(e.code, "CLUSTER_FAILED");
        assert.match(e.message, /could not (bind|create)|Address already in use/i);
        return true;
      },
    );
    assert.equal(clusterPid(dataDir), null);
  } finally {
    blocker.close();
  }
});

test("cloneRunning while a client keeps writing: all committed rows, isolated both ways", async () => {
  await q(srcPort, "CREATE TABLE t (id bigserial PRIMARY KEY, v text)");
  await q(srcPort, "INSERT INTO t (v) SELECT 'seed' FROM generate_series(1, 5000)");
  const writer = new pg.Client({
    connectionString: connectionString({ port: srcPort, password: PASSWORD }),
  });
  await writer.connect();
  let lastCommitted = 0;
  let writes = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const r = await writer.query<{ id: string }>(
        "INSERT INTO t (v) VALUES ('live') RETURNING id",
      );
      lastCommitted = Number(r.rows[0].id);
      writes++;
    }
  })();
  while (writes < 20) await new Promise((r) => setTimeout(r, 10));
  const committedBefore = lastCommitted;
  const driver = await detectCloneDriver(base);
  const fork = await cloneRunning({
    owner: ctx.runAs,
    sourceDataDir: src(),
    sourceUrl: connectionString({ port: srcPort, password: PASSWORD }),
    targetDataDir: join(base, "clone"),
    driver,
  });
  const writesDuringClone = writes;
  while (writes < writesDuringClone + 20) await new Promise((r) => setTimeout(r, 10));
  running = false;
  await loop; // rejects if any write on the source failed
  await writer.end();
  assert.match(fork.lsn, /^[0-9A-F]+\/[0-9A-F]+$/);
  assert.ok(!Number.isNaN(Date.parse(fork.at)));

  const clonePort = await start(join(base, "clone"));
  const [c] = await q<{ n: number; m: string }>(
    clonePort,
    "SELECT count(*)::int AS n, max(id)::text AS m FROM t WHERE id <= $1",
    [committedBefore],
  );
  assert.equal(c.n, committedBefore, "every row committed before the clone is in it");
  const [s] = await q<{ n: number }>(srcPort, "SELECT count(*)::int AS n FROM t");
  assert.equal(s.n, 5000 + writes, "the source kept every write");
  await q(clonePort, "INSERT INTO t (v) VALUES ('clone-only')");
  await q(srcPort, "INSERT INTO t (v) VALUES ('source-only')");
  const count = async (port: number, v: string) =>
    (await q<{ n: number }>(port, "SELECT count(*)::int AS n FROM t WHERE v = $1", [v]))[0].n;
  assert.equal(await count(clonePort, "clone-only"), 1);
  assert.equal(await count(srcPort, "clone-only"), 0);
  assert.equal(await count(srcPort, "source-only"), 1);
  assert.equal(await count(clonePort, "source-only"), 0);
  await stopCluster(ctx, { dataDir: join(base, "clone") });
});

test("cloneStopped of a stopped cluster starts with its data; a running one is refused", async () => {
  const driver = await detectCloneDriver(base);
  await assert.rejects(
    cloneStopped({ driver, src: src(), dst: join(base, "nope"), owner: ctx.runAs }),
    (e: BoughError) => e.code === "CLONE_FAILED",
  );
  await cloneStopped({ driver, src: join(base, "clone"), dst: join(base, "t0"), owner: ctx.runAs });
  const port = await start(join(base, "t0"));
  const [r] = await q<{ n: number }>(
    port,
    "SELECT count(*)::int AS n FROM t WHERE v = 'clone-only'",
  );
  assert.equal(r.n, 1);
});

test("killCluster leaves no process; startCluster recovers after kill -9 of the postmaster", async () => {
  const dataDir = join(base, "t0");
  await q(clusterPort(dataDir) ?? 0, "INSERT INTO t (v) VALUES ('before-crash')");
  const pid = clusterPid(dataDir);
  assert.ok(pid);
  process.kill(pid, "SIGKILL");
  assert.deepEqual(await waitGone([pid], 10_000), []);
  assert.ok(existsSync(join(dataDir, "postmaster.pid")), "a crash leaves postmaster.pid behind");
  const port = await pickFreePort(new Set());
  await startCluster(ctx, { dataDir, port, logFile: `${dataDir}.log` });
  const [r] = await q<{ n: number }>(
    port,
    "SELECT count(*)::int AS n FROM t WHERE v = 'before-crash'",
  );
  assert.equal(r.n, 1, "committed before the crash, replayed by recovery");
  await killCluster(dataDir);
  assert.equal(clusterPid(dataDir), null);
  assert.deepEqual(clusterProcesses(dataDir), []);
  await killCluster(dataDir); // no-op
});

test("pickFreePort avoids a port in use and reserved ports", async () => {
  const free: number[] = [];
  for (let p = PORT_MIN; p <= PORT_MAX && free.length < 2; p++)
    if (await isPortFree(p)) free.push(p);
  const [busy, other] = free;
  const server = createServer();
  await new Promise<void>((r) => server.listen({ host: "127.0.0.1", port: busy }, () => r()));
  try {
    assert.equal(await isPortFree(busy), false);
    // Everything else reserved: the only acceptable answer is the other free port.
    const reserved = new Set<number>();
    for (let p = PORT_MIN; p <= PORT_MAX; p++) if (p !== busy && p !== other) reserved.add(p);
    assert.equal(await pickFreePort(reserved), other);
  } finally {
    server.close();
  }
});

test("the clone driver is reported, and disk usage is measured", async (t) => {
  const driver = await detectCloneDriver(base);
  const fs = await fsName(base);
  t.diagnostic(`${base}: ${driver.reason}`);
  if (fs === "ext4") {
    assert.equal(driver.name, "copy");
    assert.match(driver.reason, /^copy: ext4 .* does not support reflink/);
  }
  const bytes = await exclusiveBytes(src(), driver);
  assert.ok(bytes !== null && bytes > 10 << 20, `a cluster takes room: ${bytes}`);
});
