import assert from "node:assert/strict";
import { chown, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import pg from "pg";
import { detectCloneDriver } from "../src/clusters/clone-driver.ts";
import {
  connectionString,
  initCluster,
  killCluster,
  startCluster,
  stopCluster,
} from "../src/clusters/cluster.ts";
import { exclusiveBytes } from "../src/clusters/disk-usage.ts";
import { cloneRunning, cloneStopped } from "../src/clusters/online-clone.ts";
import { pickFreePort } from "../src/clusters/ports.ts";
import { testClusterCtx } from "./helpers/scratch-cluster.ts";
import { mountLoopXfs } from "./helpers/xfs.ts";

const PASSWORD = "reflink-test";
const MB = 1 << 20;

async function q<T extends pg.QueryResultRow>(port: number, sql: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: connectionString({ port, password: PASSWORD }) });
  await c.connect();
  try {
    return (await c.query<T>(sql)).rows;
  } finally {
    await c.end();
  }
}

test("on XFS with reflink: online clones share every block with their source", async (t) => {
  const xfs = await mountLoopXfs();
  if (!xfs.ok) {
    t.skip(xfs.reason);
    return;
  }
  const ctx = await testClusterCtx();
  const projects = join(xfs.dir, "projects");
  const src = join(projects, "src");
  const clone = join(projects, "clone");
  const t0 = join(projects, "t0");
  try {
    await mkdir(projects, { mode: 0o755 });
    if (ctx.runAs) await chown(projects, ctx.runAs.uid, ctx.runAs.gid);
    const driver = await detectCloneDriver(projects);
    assert.equal(driver.name, "reflink");
    assert.equal(driver.reason, "reflink: xfs supports FICLONE");

    await initCluster(ctx, { dataDir: src, password: PASSWORD, noSync: true, owner: ctx.runAs });
    const srcPort = await pickFreePort(new Set());
    await startCluster(ctx, { dataDir: src, port: srcPort, logFile: `${src}.log` });
    await q(
      srcPort,
      "CREATE TABLE big AS SELECT g AS id, repeat(md5(g::text), 16) AS v FROM generate_series(1, 150000) g",
    );
    await q(srcPort, "CHECKPOINT");
    const srcBytes = await exclusiveBytes(src, driver);
    assert.ok(srcBytes !== null && srcBytes > 80 * MB, `the source owns its blocks: ${srcBytes}`);

    const fork = await cloneRunning({
      owner: ctx.runAs,
      sourceDataDir: src,
      sourceUrl: connectionString({ port: srcPort, password: PASSWORD }),
      targetDataDir: clone,
      driver,
    });
    t.diagnostic(`forked at ${fork.lsn}; source ${srcBytes} bytes exclusive`);
    const cloneBytes = await exclusiveBytes(clone, driver);
    assert.ok(
      cloneBytes !== null && cloneBytes < 50 * MB,
      `a fresh clone shares its blocks: ${cloneBytes}`,
    );
    t.diagnostic(`fresh clone: ${cloneBytes} bytes exclusive`);
    const sharedNow = await exclusiveBytes(src, driver);
    assert.ok(
      sharedNow !== null && sharedNow < srcBytes / 2,
      `the source now shares too: ${sharedNow}`,
    );

    const clonePort = await pickFreePort(new Set([srcPort]));
    await startCluster(ctx, { dataDir: clone, port: clonePort, logFile: `${clone}.log` });
    const [r] = await q<{ n: number }>(clonePort, "SELECT count(*)::int AS n FROM big");
    assert.equal(r.n, 150000);
    await stopCluster(ctx, { dataDir: clone });
    await cloneStopped({ driver, src: clone, dst: t0, owner: ctx.runAs });
    const t0Bytes = await exclusiveBytes(t0, driver);
    assert.ok(
      t0Bytes !== null && t0Bytes < 50 * MB,
      `a stopped clone shares its blocks: ${t0Bytes}`,
    );
  } finally {
    for (const d of [src, clone, t0]) await killCluster(d).catch(() => {});
    await xfs.cleanup();
  }
});
