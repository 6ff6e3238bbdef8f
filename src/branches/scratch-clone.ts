import { rm } from "node:fs/promises";
import { join } from "node:path";
import { killCluster, startCluster } from "../clusters/cluster.ts";
import { cloneRunning } from "../clusters/online-clone.ts";
import type { RunAs } from "../clusters/os-user.ts";
import { pickFreePort } from "../clusters/ports.ts";
import { removeTree } from "../clusters/remove-tree.ts";
import type { Sandbox } from "../clusters/sandbox.ts";
import { reservedPorts } from "../control/branches.ts";
import { advance, beginOperation, finishOperation, type Operation } from "../control/journal.ts";
import { faultPoint } from "../core/fault.ts";
import type { Branch, Project } from "../core/types.ts";
import { branchUrl } from "./branch-cluster.ts";
import { reachableUrl } from "./branch-password.ts";
import { dropScratchOwner, scratchOwner, scratchSandbox } from "./cluster-users.ts";
import type { Ctx } from "./context.ts";

/**
 * Runs fn against a throwaway copy-on-write clone of a running branch, then removes
 * the clone. Whatever fn runs there (a COMMIT, nextval, COPY … TO PROGRAM) cannot
 * reach the source, which is only read: as root the clone runs as a throwaway OS user of
 * its own (cluster-users.ts), removed with it, in a sandbox without network or shared
 * writable directories (clusters/sandbox.ts), so what it reads of the source stays there. The clone is journaled, so if this process
 * is killed the next bough command stops and removes it (recoverScratchClone).
 */
export async function withScratchClone<T>(
  ctx: Ctx,
  o: {
    project: Project;
    source: Branch;
    purpose: string;
    /** Makes the running clone in dir, owned by owner (default: an online clone of source, started). */
    make?: (t: ScratchTarget) => Promise<void>;
  },
  fn: (url: string) => Promise<T>,
): Promise<T> {
  const op = beginOperation(ctx.db, {
    projectId: o.project.id,
    kind: "scratch-clone",
    branchName: o.source.name,
    args: { purpose: o.purpose },
  });
  const dir = join(ctx.paths.scratchDir(o.project), `${o.purpose}-${op.id}`);
  advance(ctx.db, op, "cloning", { dir });
  try {
    const port = await pickFreePort(reservedPorts(ctx.db));
    const owner = await scratchOwner(ctx, op.id);
    const sandbox = await scratchSandbox(owner, dir);
    const target = { dir, port, logFile: scratchLog(dir), owner, sandbox };
    await (o.make ?? ((t) => cloneAndStart(ctx, o, t)))(target);
    faultPoint("scratch:after-start");
    const { url } = await reachableUrl(ctx, o.project, o.source, port, sandbox?.socketDir);
    const result = await fn(url);
    await removeScratch(ctx, dir, op.id);
    finishOperation(ctx.db, op, "done");
    return result;
  } catch (err) {
    await removeScratch(ctx, dir, op.id);
    finishOperation(ctx.db, op, "failed", (err as Error).message);
    throw err;
  }
}

/** Where a scratch clone is made: its directory, port, log, OS user and sandbox. */
export interface ScratchTarget {
  dir: string;
  port: number;
  logFile: string;
  owner: RunAs | null;
  /** Set as root: the clone must be started in it. */
  sandbox: Sandbox | null;
}

async function cloneAndStart(
  ctx: Ctx,
  o: { project: Project; source: Branch },
  t: ScratchTarget,
): Promise<void> {
  await cloneRunning({
    sourceDataDir: ctx.paths.branchData(o.project, o.source),
    sourceUrl: branchUrl(o.project, o.source),
    targetDataDir: t.dir,
    driver: ctx.driver,
    owner: t.owner,
  });
  await startCluster(ctx.cluster, {
    dataDir: t.dir,
    port: t.port,
    logFile: t.logFile,
    sandbox: t.sandbox ?? undefined,
  });
}

/** A scratch clone left by a killed process: stop it and remove its files. */
export async function recoverScratchClone(ctx: Ctx, op: Operation): Promise<void> {
  const dir = op.args.dir as string | undefined;
  if (dir) await removeScratch(ctx, dir, op.id);
  finishOperation(ctx.db, op, "rolled-back");
}

const scratchLog = (dir: string) => `${dir}.log`;

async function removeScratch(ctx: Ctx, dir: string, opId: number): Promise<void> {
  await killCluster(dir);
  await removeTree(dir, ctx.cluster.runAs);
  await rm(scratchLog(dir), { force: true });
  await dropScratchOwner(ctx, opId);
}
