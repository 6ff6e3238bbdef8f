import { randomBytes } from "node:crypto";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type ClusterCtx,
  connectionString,
  initCluster,
  killCluster,
  startCluster,
  stopCluster,
} from "../../src/clusters/cluster.ts";
import { resolveInstall } from "../../src/clusters/install.ts";
import { ensureRunAs } from "../../src/clusters/os-user.ts";
import { pickFreePort } from "../../src/clusters/ports.ts";
import { makePaths } from "../../src/core/paths.ts";

export interface ScratchCluster {
  url: string;
  port: number;
  password: string;
  dataDir: string;
  /** The temp dir holding dataDir and the log (owned by the postgres user when root). */
  dir: string;
  logFile: string;
  ctx: ClusterCtx;
  stop(): Promise<void>;
}

/** Shared by test runs: the root-only copy of the Postgres install is made once. */
export async function testClusterCtx(): Promise<ClusterCtx> {
  const runAs = await ensureRunAs();
  const install = await resolveInstall(makePaths(join(tmpdir(), "bough-test-home")));
  return { install, runAs };
}

/**
 * A throwaway cluster in a temp dir on a free port. stop() stops it and removes the dir.
 *
 * @example const pg = await startScratchCluster(); try { await query(pg.url, "select 1") } finally { await pg.stop() }
 */
export async function startScratchCluster(o: { name?: string } = {}): Promise<ScratchCluster> {
  const ctx = await testClusterCtx();
  const dir = await mkdtemp(join(tmpdir(), `bough-scratch-${o.name ?? "pg"}-`));
  if (ctx.runAs) await chown(dir, ctx.runAs.uid, ctx.runAs.gid);
  const dataDir = join(dir, "data");
  const logFile = join(dir, "postgres.log");
  const password = randomBytes(12).toString("hex");
  try {
    await initCluster(ctx, { dataDir, password, noSync: true, owner: ctx.runAs });
    const port = await startOnSomePort(ctx, dataDir, logFile);
    return {
      url: connectionString({ port, password }),
      port,
      password,
      dataDir,
      dir,
      logFile,
      ctx,
      async stop() {
        await stopCluster(ctx, { dataDir, mode: "fast" }).catch(() => killCluster(dataDir));
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await killCluster(dataDir).catch(() => {});
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Another test process may grab the port between pick and start: retry a few times. */
async function startOnSomePort(ctx: ClusterCtx, dataDir: string, logFile: string): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const port = await pickFreePort(new Set());
    try {
      await startCluster(ctx, { dataDir, port, logFile });
      return port;
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
}
