import { execFile } from "node:child_process";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { archiveUpToNow, type RecoveryTarget, recoverySettings } from "../clusters/archive.ts";
import { type CloneTarget, listSource } from "../clusters/clone-target.ts";
import { pool } from "../clusters/clone-tree.ts";
import { clusterPid, startCluster } from "../clusters/cluster.ts";
import { cloneStopped, walSegmentSize } from "../clusters/online-clone.ts";
import type { RunAs } from "../clusters/os-user.ts";
import { removeTree } from "../clusters/remove-tree.ts";
import type { Sandbox } from "../clusters/sandbox.ts";
import { segmentNumber } from "../clusters/wal.ts";
import { BoughError, toBoughError } from "../core/errors.ts";
import type { Branch, Project } from "../core/types.ts";
import { branchUrl, startBranch } from "./branch-cluster.ts";
import { reachableUrl } from "./branch-password.ts";
import type { Ctx } from "./context.ts";
import { type Base, historyConfig, historyWindow, lsnBytes } from "./pitr-bases.ts";
import { type ScratchTarget, withScratchClone } from "./scratch-clone.ts";
import { withClient } from "./sql.ts";

/** What `--at TIME` / `--lsn LSN` asked for, as given (exactly one of them). */
export interface PointInTime {
  at?: string;
  lsn?: string;
}

const ISO = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$/;

/**
 * TIME as ISO 8601, else as `date -d` reads it ("10 seconds ago", "yesterday 14:00"),
 * run with an argument vector (never a shell).
 */
export async function parseTime(text: string): Promise<Date> {
  if (ISO.test(text.trim())) {
    const d = new Date(text.trim());
    if (!Number.isNaN(d.getTime())) return d;
  }
  const out = await new Promise<string | null>((resolve) => {
    execFile("date", ["-d", text, "+%s%3N"], { encoding: "utf8" }, (err, stdout) =>
      resolve(err ? null : stdout.trim()),
    );
  });
  if (out === null || !/^-?\d+$/.test(out)) {
    throw new BoughError(
      "INVALID_INPUT",
      `cannot read the time "${text}"`,
      'give an ISO 8601 time (2026-05-01T12:00:00Z) or anything `date -d` reads ("10 minutes ago")',
    );
  }
  return new Date(Number(out));
}

const LSN = /^[0-9A-Fa-f]{1,8}\/[0-9A-Fa-f]{1,8}$/;

/** Checks `--at`/`--lsn` (exclusive) and turns them into a recovery target. */
export async function resolveTarget(p: PointInTime): Promise<RecoveryTarget> {
  if (p.at !== undefined && p.lsn !== undefined) {
    throw new BoughError("INVALID_INPUT", "--at and --lsn are exclusive", "give one of them");
  }
  if (p.lsn !== undefined) {
    if (!LSN.test(p.lsn)) {
      throw new BoughError(
        "INVALID_INPUT",
        `invalid LSN "${p.lsn}"`,
        "give it as pg_current_wal_lsn() prints it, e.g. 0/3000148",
      );
    }
    return { lsn: p.lsn.toUpperCase() };
  }
  if (p.at === undefined) {
    throw new BoughError("INVALID_INPUT", "no point in time given", "give --at TIME or --lsn LSN");
  }
  return { time: await parseTime(p.at) };
}

const targetText = (t: RecoveryTarget) => ("time" in t ? t.time.toISOString() : `LSN ${t.lsn}`);

/**
 * The base to recover source to target from: the newest one before the target, inside
 * the history window. Refuses, naming the window, a target before it or in the future.
 */
export async function chooseBase(
  ctx: Ctx,
  o: { project: Project; source: Branch; target: RecoveryTarget },
): Promise<Base> {
  const { project, source, target } = o;
  const window = historyWindow(ctx, project, source);
  const retention = `${Math.round(historyConfig(ctx, project).retentionMs / 3_600_000)} h`;
  const span = window
    ? `${window.earliest.toISOString()}..${window.now.toISOString()}`
    : "empty: it has no base yet";
  const refuse = (why: string) =>
    new BoughError(
      "INVALID_INPUT",
      `${targetText(target)} is ${why}: the history of branch "${source.name}" covers ${span}`,
      window
        ? `pick a point in that window (kept: ${retention}; \`bough project set --history 7d\` keeps more from now on)`
        : "`bough up` takes a base of every running branch; history starts there",
      window ? { earliest: window.earliest.toISOString(), now: window.now.toISOString() } : {},
    );
  if (!window) throw refuse("not recoverable");
  if ("time" in target) {
    if (target.time > window.now) throw refuse("in the future");
    const base = [...window.bases].reverse().find((b) => Date.parse(b.at) <= target.time.getTime());
    if (!base || target.time < window.earliest) throw refuse("before the window");
    return base;
  }
  const current = await withClient(branchUrl(project, source), async (c) => {
    const r = await c.query<{ lsn: string }>("SELECT pg_current_wal_lsn()::text AS lsn");
    return r.rows[0].lsn;
  });
  if (lsnBytes(target.lsn) > lsnBytes(current)) throw refuse(`in the future (now ${current})`);
  const base = [...window.bases].reverse().find((b) => lsnBytes(b.lsn) <= lsnBytes(target.lsn));
  if (!base) throw refuse("before the window");
  return base;
}

/**
 * Makes dataDir the source as it was at target: a clone of the nearest base, archive
 * recovery from the source's archive up to the target, promotion. The source is only
 * read (started if stopped, its current segment switched out and archived first). On
 * return the cluster runs on port, promoted, on a new timeline. `archive` are the
 * settings of the run (the new owner's archive, or none for a throwaway).
 *
 * The recovering cluster runs as owner, who may not read the source's archive (another
 * branch's user): root copies the segments it needs into the clone beforehand (while it
 * is still root-only, with the clone's checks: owned by the source's user, no links), and
 * restore_command reads that copy, removed once promoted.
 */
export async function recoverInto(
  ctx: Ctx,
  o: {
    project: Project;
    source: Branch;
    target: RecoveryTarget;
    dataDir: string;
    port: number;
    logFile: string;
    archive: Record<string, string>;
    /** The user the recovered cluster runs as (root mode), null otherwise. */
    owner: RunAs | null;
    /** A throwaway recovery's sandbox (clusters/sandbox.ts). */
    sandbox?: Sandbox | null;
  },
): Promise<{ base: Base; bytes: number }> {
  const live = await startBranch(ctx, o.project, o.source);
  const base = await chooseBase(ctx, { project: o.project, source: live, target: o.target });
  ctx.progress(`archiving ${o.source.name}'s WAL up to now`);
  const segmentSize = await withClient(branchUrl(o.project, live), async (c) => {
    await archiveUpToNow(c);
    return walSegmentSize(c);
  });
  ctx.progress(
    `recovering ${o.source.name} to ${targetText(o.target)} from its base of ${base.at}`,
  );
  const archiveDir = ctx.paths.branchArchive(o.project, o.source);
  const staged = join(o.dataDir, STAGED_WAL);
  const bytes = await cloneStopped({
    driver: ctx.driver,
    src: base.dir,
    dst: o.dataDir,
    owner: o.owner,
    extra: async (t) => {
      await stageWal(t, { archiveDir, from: lsnSegment(base.startLsn, segmentSize), segmentSize });
      t.writeFile("recovery.signal", "");
    },
  });
  try {
    await startCluster(ctx.cluster, {
      dataDir: o.dataDir,
      port: o.port,
      logFile: o.logFile,
      verbatim: { ...o.archive, ...recoverySettings(staged, o.target) },
      sandbox: o.sandbox ?? undefined,
    });
    // A hot standby accepts connections (its postmaster.pid says ready) before it promotes.
    const { url } = await reachableUrl(ctx, o.project, o.source, o.port, o.sandbox?.socketDir);
    await waitPromoted(url, o.dataDir);
    await removeTree(staged, o.owner);
  } catch (err) {
    const e = toBoughError(err);
    throw new BoughError(
      "RECOVERY_FAILED",
      `recovering ${o.source.name} to ${targetText(o.target)} failed: ${e.message}`,
      `the source is untouched; see ${o.logFile}`,
    );
  }
  return { base, bytes };
}

/** The copy of the archive a recovery reads, inside its data directory until promoted. */
const STAGED_WAL = "bough_restore_wal";

const SEGMENT = /^[0-9A-F]{24}$/;
const HISTORY = /^[0-9A-F]{8}\.history$/;

/** Segment number of the WAL file holding lsn ("X/Y"). */
function lsnSegment(lsn: string, segmentSize: number): number {
  return Math.floor(lsnBytes(lsn) / segmentSize);
}

/**
 * Copies into the clone (still root-only) every timeline history file of the archive and
 * every segment from the base's start on: what a recovery from that base can ask for.
 */
async function stageWal(
  t: CloneTarget,
  o: { archiveDir: string; from: number; segmentSize: number },
): Promise<void> {
  t.mkdir(STAGED_WAL, 0o700);
  const names = (listSource(o.archiveDir, t.sourceUid) ?? [])
    .filter((e) => e.isFile())
    .map((e) => e.name)
    .filter(
      (n) => HISTORY.test(n) || (SEGMENT.test(n) && segmentNumber(n, o.segmentSize) >= o.from),
    );
  await pool(names, 8, async (name) => {
    await t.copyFrom(join(o.archiveDir, name), `${STAGED_WAL}/${name}`);
  });
}

async function waitPromoted(url: string, dataDir: string, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  await withClient(url, async (c) => {
    for (;;) {
      const r = await c.query<{ r: boolean }>("SELECT pg_is_in_recovery() AS r");
      if (!r.rows[0].r) return;
      if (clusterPid(dataDir) === null) throw new Error("the postmaster exited during recovery");
      if (Date.now() > deadline) throw new Error(`not promoted after ${timeoutMs / 1000} s`);
      await sleep(20);
    }
  });
}

/**
 * Runs fn against a throwaway cluster holding source as it was at target (recovered from
 * its history, journaled like every scratch clone, removed after); the source is only read.
 */
export function withRecoveredClone<T>(
  ctx: Ctx,
  o: { project: Project; source: Branch; target: RecoveryTarget; purpose: string },
  fn: (url: string) => Promise<T>,
): Promise<T> {
  const make = async (t: ScratchTarget) => {
    await recoverInto(ctx, {
      ...o,
      dataDir: t.dir,
      port: t.port,
      logFile: t.logFile,
      archive: {},
      owner: t.owner,
      sandbox: t.sandbox,
    });
  };
  return withScratchClone(
    ctx,
    { project: o.project, source: o.source, purpose: o.purpose, make },
    fn,
  );
}
