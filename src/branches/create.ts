import { performance } from "node:perf_hooks";
import type { RecoveryTarget } from "../clusters/archive.ts";
import { startCluster, stopCluster } from "../clusters/cluster.ts";
import { cloneRunning, cloneStopped } from "../clusters/online-clone.ts";
import type { RunAs } from "../clusters/os-user.ts";
import { pickFreePort } from "../clusters/ports.ts";
import { findBranch, insertBranch, reservedPorts, updateBranch } from "../control/branches.ts";
import { advance, beginOperation, finishOperation, type Operation } from "../control/journal.ts";
import { setSetting } from "../control/settings.ts";
import { BoughError } from "../core/errors.ts";
import { faultPoint } from "../core/fault.ts";
import { validateName } from "../core/names.ts";
import type { DirRef } from "../core/paths.ts";
import type { Branch, BranchMode, Project } from "../core/types.ts";
import { audited } from "./audited.ts";
import { branchArchiving, branchUrl, removeBranchFiles, startBranch } from "./branch-cluster.ts";
import { adoptPassword } from "./branch-password.ts";
import { branchOwner } from "./cluster-users.ts";
import type { Ctx } from "./context.ts";
import { exclusive } from "./exclusive.ts";
import { type BranchInfo, branchInfo } from "./info.ts";
import { requireSettled } from "./journaled.ts";
import { ensureBranchKeys } from "./keys.ts";
import { currentKey, requireBranch, requireProject } from "./lookup.ts";
import { projectMaskKey } from "./mask.ts";
import { maskBranchData } from "./mask-data.ts";
import { captureBase } from "./merge-base.ts";
import { recoverInto, resolveTarget } from "./pitr.ts";
import { currentLsn, recordT0Base } from "./pitr-bases.ts";
import { EMPTYING_RUN_SETTINGS, emptyBranchData } from "./schema-only.ts";
import { type ExpiryInput, expiryOf } from "./set.ts";
import { recordT0Blobs } from "./storage-refs.ts";

export interface CreateBranchOptions extends Omit<ExpiryInput, "noExpiry"> {
  project: string;
  name: string;
  /** Parent branch; default main. */
  from?: string;
  mode?: BranchMode;
  /** Make it the CLI's current branch (default true). */
  switchTo?: boolean;
  /** The parent as it was at this time (ISO 8601 or `date -d` text) instead of now. */
  at?: string;
  /** The parent as it was just before this LSN. */
  lsn?: string;
  /** Mask the copy with the parent's rules (and auth's users) before anyone can see it. */
  mask?: boolean;
  /** Idle timeout of scale to zero (ms, 0 never; default DEFAULT_SUSPEND_AFTER_MS). */
  suspendAfterMs?: number;
}

export interface CreateBranchResult {
  branch: BranchInfo;
  /** Wall time of the whole create, in milliseconds. */
  elapsedMs: number;
  cloneDriver: string;
  /** Logical bytes cloned: the data directory, its WAL and T0 (reflink shares them on disk). */
  clonedBytes: number;
}

/**
 * Creates a branch: an online copy-on-write clone of the parent's cluster (the parent
 * keeps serving), a frozen T0 clone for reset, then starts it on its own port.
 * Journaled: a crash at any step is rolled back by the next bough command.
 */
async function createBranchNow(ctx: Ctx, o: CreateBranchOptions): Promise<CreateBranchResult> {
  validateName("branch", o.name);
  const mode = o.mode ?? "full";
  if (mode !== "full" && mode !== "schema-only") {
    throw new BoughError(
      "INVALID_INPUT",
      `unknown mode "${mode}"`,
      "use --mode full or --mode schema-only",
    );
  }
  const started = performance.now();
  const target = o.at !== undefined || o.lsn !== undefined ? await resolveTarget(o) : undefined;
  if (target && mode !== "full") {
    throw new BoughError(
      "INVALID_INPUT",
      "a schema-only branch cannot start from a point in time",
      "drop --mode schema-only, or --at/--lsn",
    );
  }
  return exclusive(ctx, () => createBranchLocked(ctx, { ...o, mode, target, started }));
}

/** The bytes cloned go on the audit line, which /metrics counts. */
export const createBranch = audited("branch.create", createBranchNow, {
  measure: (r) => ({ clonedBytes: r.clonedBytes }),
});

/** A create inside an operation that already holds the lock (restore makes its backup so). */
export async function createBranchLocked(
  ctx: Ctx,
  o: CreateBranchOptions & { mode: BranchMode; target?: RecoveryTarget; started: number },
): Promise<CreateBranchResult> {
  const { mode, started } = o;
  const project = requireProject(ctx, o.project);
  if (findBranch(ctx.db, project.id, o.name)) {
    throw new BoughError(
      "BRANCH_EXISTS",
      `branch "${o.name}" already exists in project "${project.name}"`,
      "pick another name, or delete the existing branch first",
    );
  }
  const parent = requireBranch(ctx, project, o.from ?? "main");
  requireSettled(parent, "branch from it");
  const expiresAt = expiryOf(o, { name: o.name, parentId: parent.id, protected: false });
  const port = await pickFreePort(reservedPorts(ctx.db));
  const { branch, op } = ctx.db.transaction(() => {
    const branch = insertBranch(ctx.db, {
      projectId: project.id,
      name: o.name,
      parentId: parent.id,
      mode,
      port,
      // A copy of masked data is masked data.
      masked: o.mask === true || parent.masked,
      expiresAt,
    });
    if (o.suspendAfterMs !== undefined) {
      updateBranch(ctx.db, branch.id, { suspendAfterMs: o.suspendAfterMs });
    }
    const op = beginOperation(ctx.db, {
      projectId: project.id,
      kind: "branch-create",
      branchName: o.name,
      args: { branchId: branch.id, parent: parent.name, mode, mask: o.mask === true },
    });
    return { branch, op };
  })();
  let clonedBytes: number;
  try {
    clonedBytes = await runCreate(ctx, {
      project,
      parent,
      branch,
      op,
      mode,
      mask: o.mask === true,
      target: o.target,
    });
  } catch (err) {
    await rollbackCreate(ctx, op, project);
    throw err;
  }
  // Its own keys: the parent's are refused here, and these are refused on the parent.
  await ensureBranchKeys(ctx, project, branch);
  if (o.switchTo !== false) setSetting(ctx.db, currentKey(project), o.name);
  return {
    branch: branchInfo(ctx, project, requireBranch(ctx, project, o.name)),
    elapsedMs: performance.now() - started,
    cloneDriver: ctx.driver.name,
    clonedBytes,
  };
}

/** What the steps of one create work on. */
interface CreateRun {
  project: Project;
  parent: Branch;
  branch: Branch;
  op: Operation;
  mode: BranchMode;
  mask: boolean;
  target?: RecoveryTarget;
}

async function runCreate(ctx: Ctx, s: CreateRun): Promise<number> {
  const { project, branch, op } = s;
  const dataDir = ctx.paths.branchData(project, branch);
  const t0Dir = ctx.paths.branchT0(project, branch);
  const logFile = ctx.paths.branchLog(project, branch);
  // Its own OS user (as root), before any of its files exist.
  const owner = await branchOwner(ctx, branch.id);
  const archiving = await branchArchiving(ctx, project, branch);
  const fork = s.target
    ? await forkAt(ctx, { ...s, target: s.target, dataDir, logFile, archiving, owner })
    : await forkNow(ctx, { ...s, dataDir, owner });
  faultPoint("create:after-clone");
  advance(ctx.db, op, "cloned", { forkLsn: fork.lsn, forkedAt: fork.at });
  const schemaOnly = s.mode === "schema-only";
  // Emptied or masked: T0 is taken after, so no reset ever brings the parent's values back.
  const rewritten = schemaOnly || s.mask;
  let cloned = fork.bytes;
  if (!rewritten) {
    cloned += await cloneStopped({ driver: ctx.driver, src: dataDir, dst: t0Dir, owner });
    await recordT0Base(ctx, project, branch, fork.base);
    faultPoint("create:after-t0");
  }
  // The rewriting run must not archive: its WAL carries the parent's values.
  await startCluster(ctx.cluster, {
    dataDir,
    port: branch.port,
    logFile,
    settings: rewritten ? EMPTYING_RUN_SETTINGS : undefined,
    verbatim: rewritten ? undefined : archiving,
  });
  // The clone still has its parent's password: the branch's own before its URL is used.
  await adoptPassword(ctx, project, branch, branch.port);
  faultPoint("create:after-start");
  advance(ctx.db, op, "started");
  const url = branchUrl(project, branch);
  if (schemaOnly) {
    const emptied = await emptyBranchData((database) => branchUrl(project, branch, database));
    ctx.progress(
      `schema-only: emptied ${emptied.tables} tables, ${emptied.sequences} sequences, ${emptied.largeObjects} large objects and ${emptied.matviewsRefreshed} materialized views in ${emptied.databases.length} databases`,
    );
    if (emptied.matviewsUnpopulated.length > 0) {
      ctx.progress(
        `schema-only: materialized views left unpopulated (their refresh fails on empty tables; REFRESH them to query): ${emptied.matviewsUnpopulated.join(", ")}`,
      );
    }
  }
  if (s.mask) {
    const masked = await maskBranchData(url, projectMaskKey(ctx, project));
    faultPoint("create:after-mask");
    ctx.progress(
      `masked ${Object.keys(masked.columns).length} columns in ${masked.tables} tables, refreshed ${masked.matviewsRefreshed} materialized views`,
    );
    if (masked.matviewsUnpopulated.length > 0) {
      ctx.progress(
        `masked: materialized views left unpopulated: ${masked.matviewsUnpopulated.join(", ")}`,
      );
    }
  }
  if (rewritten) {
    // T0 is the emptied or masked state, so reset returns there.
    const lsn = await currentLsn(url);
    await stopCluster(ctx.cluster, { dataDir });
    cloned += await cloneStopped({ driver: ctx.driver, src: dataDir, dst: t0Dir, owner });
    const at = new Date().toISOString();
    await recordT0Base(ctx, project, branch, { at, lsn, startLsn: lsn });
    await startCluster(ctx.cluster, { dataDir, port: branch.port, logFile, verbatim: archiving });
  }
  const { base, fingerprint } = await captureBase(url);
  await recordT0Blobs(ctx, project, branch, url);
  faultPoint("create:before-ready");
  ctx.db.transaction(() => {
    updateBranch(ctx.db, branch.id, {
      state: "ready",
      wantRunning: true,
      forkedAt: fork.at,
      forkLsn: fork.lsn,
      t0Base: base,
      mergeBase: base,
      t0Fingerprint: fingerprint,
      baseFingerprint: fingerprint,
    });
    finishOperation(ctx.db, op, "done");
  })();
  return cloned;
}

type Fork = {
  at: string;
  lsn: string;
  base: { at: string; lsn: string; startLsn: string };
  /** Logical bytes the fork copied (the recovered base of a point-in-time fork counts too). */
  bytes: number;
};

/** The parent now: an online clone (the parent keeps serving), replayed when it starts. */
async function forkNow(
  ctx: Ctx,
  s: { project: Project; parent: Branch; op: Operation; dataDir: string; owner: RunAs | null },
): Promise<Fork> {
  // An online clone needs the parent's backup functions: a stopped parent is started.
  const liveParent = await startBranch(ctx, s.project, s.parent);
  advance(ctx.db, s.op, "cloning");
  ctx.progress(`cloning ${s.parent.name} (${ctx.driver.name})`);
  const fork = await cloneRunning({
    sourceDataDir: ctx.paths.branchData(s.project, s.parent),
    sourceUrl: branchUrl(s.project, liveParent),
    targetDataDir: s.dataDir,
    driver: ctx.driver,
    owner: s.owner,
  });
  // Consistent once the backup's end is replayed; every later commit is the branch's own.
  const base = { at: new Date().toISOString(), lsn: fork.stopLsn, startLsn: fork.lsn };
  return { at: fork.at, lsn: fork.lsn, base, bytes: fork.bytes };
}

/**
 * The parent as it was at a point in time: recovered from its base and archive into the
 * branch's data directory (the parent is only read), promoted, then stopped so T0 is
 * taken from it as from any new branch.
 */
async function forkAt(
  ctx: Ctx,
  s: CreateRun & {
    target: RecoveryTarget;
    dataDir: string;
    logFile: string;
    archiving: Record<string, string>;
    owner: RunAs | null;
  },
): Promise<Fork> {
  advance(ctx.db, s.op, "recovering");
  const recovered = await recoverInto(ctx, {
    project: s.project,
    source: s.parent,
    target: s.target,
    dataDir: s.dataDir,
    port: s.branch.port,
    logFile: s.logFile,
    archive: s.archiving,
    owner: s.owner,
  });
  await adoptPassword(ctx, s.project, s.branch, s.branch.port);
  const lsn = await currentLsn(branchUrl(s.project, s.branch));
  await stopCluster(ctx.cluster, { dataDir: s.dataDir });
  const base = { at: new Date().toISOString(), lsn, startLsn: lsn };
  const at = "time" in s.target ? s.target.time.toISOString() : base.at;
  return { at, lsn: "lsn" in s.target ? s.target.lsn : lsn, base, bytes: recovered.bytes };
}

/**
 * Undoes a create at whatever step it stopped: no process, port, directory or row is
 * left. Only this incarnation's files (keyed by the branch id) are removed.
 */
export async function rollbackCreate(
  ctx: Ctx,
  op: Operation,
  project: DirRef | null,
): Promise<void> {
  const branchId = op.args.branchId as number | undefined;
  if (project !== null && branchId !== undefined && op.branchName !== null) {
    await removeBranchFiles(ctx, project, { id: branchId, name: op.branchName });
  }
  ctx.db.transaction(() => {
    if (branchId !== undefined) {
      // "failed": an earlier attempt at this rollback failed and marked the branch.
      ctx.db
        .prepare("DELETE FROM branches WHERE id = ? AND state IN ('creating', 'failed')")
        .run(branchId);
    }
    finishOperation(ctx.db, op, "rolled-back");
  })();
}
