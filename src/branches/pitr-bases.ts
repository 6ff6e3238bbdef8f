import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { cloneRunning } from "../clusters/online-clone.ts";
import { removeTree } from "../clusters/remove-tree.ts";
import { listBranches } from "../control/branches.ts";
import { getSetting, setSetting } from "../control/settings.ts";
import { BoughError } from "../core/errors.ts";
import type { DirRef } from "../core/paths.ts";
import type { Branch, Project } from "../core/types.ts";
import { branchUrl, isRunning } from "./branch-cluster.ts";
import { clusterOwner } from "./cluster-users.ts";
import type { Ctx } from "./context.ts";
import { exclusive } from "./exclusive.ts";
import { SETTLED } from "./journaled.ts";
import { requireProject } from "./lookup.ts";
import { withClient } from "./sql.ts";

/**
 * A base snapshot of a branch for point-in-time recovery: a clone of its data directory
 * from which the branch's archived WAL replays forward. T0 is one; `bough up` adds
 * periodic ones (online clones). Recorded in a root-only JSON file beside the clone,
 * written after the clone is complete, so a half-made base is never listed.
 */
export interface Base {
  kind: "t0" | "periodic";
  /** Data directory of the clone. */
  dir: string;
  /** By then the clone is consistent: a target at or after it can start from this base. */
  at: string;
  lsn: string;
  /** Where its replay starts: archived WAL before it is not needed by this base. */
  startLsn: string;
}

type BaseRecord = Omit<Base, "dir">;

/** How much history a project keeps and how often `bough up` takes a base. */
export interface HistoryConfig {
  retentionMs: number;
  baseEveryMs: number;
}

const HOUR = 3_600_000;
const DEFAULTS: HistoryConfig = { retentionMs: 24 * HOUR, baseEveryMs: 6 * HOUR };
const configKey = (project: Project) => `history:${project.id}`;

export function historyConfig(ctx: Ctx, project: Project): HistoryConfig {
  const raw = getSetting(ctx.db, configKey(project));
  return raw ? { ...DEFAULTS, ...(JSON.parse(raw) as Partial<HistoryConfig>) } : DEFAULTS;
}

/** "90m", "12h", "7d", "2w" in milliseconds. */
export function parseDuration(text: string, what: string): number {
  const m = /^(\d+)\s*(m|min|h|d|w)$/.exec(text.trim());
  const unit = { m: 60_000, min: 60_000, h: HOUR, d: 24 * HOUR, w: 168 * HOUR };
  const ms = m ? Number(m[1]) * unit[m[2] as keyof typeof unit] : Number.NaN;
  if (!(ms > 0)) {
    throw new BoughError(
      "INVALID_INPUT",
      `invalid ${what} "${text}"`,
      "give a number and a unit: 90m, 12h, 7d or 2w",
    );
  }
  return ms;
}

/** `bough project set --history 7d --base-every 6h`. */
export function setHistoryConfig(
  ctx: Ctx,
  o: { project: string; history?: string; baseEvery?: string },
): Promise<HistoryConfig> {
  return exclusive(ctx, async () => {
    const project = requireProject(ctx, o.project);
    const next = { ...historyConfig(ctx, project) };
    if (o.history !== undefined) next.retentionMs = parseDuration(o.history, "history window");
    if (o.baseEvery !== undefined) next.baseEveryMs = parseDuration(o.baseEvery, "base interval");
    setSetting(ctx.db, configKey(project), JSON.stringify(next));
    return next;
  });
}

const T0_RECORD = "t0.json";

/** The branch's bases, oldest first. */
export function listBases(ctx: Ctx, project: DirRef, branch: DirRef): Base[] {
  const dir = ctx.paths.branchBases(project, branch);
  if (!existsSync(dir)) return [];
  const bases: Base[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.endsWith(".json")) continue;
    const rec = JSON.parse(readFileSync(join(dir, name), "utf8")) as BaseRecord;
    const data =
      name === T0_RECORD ? ctx.paths.branchT0(project, branch) : join(dir, name.slice(0, -5));
    bases.push({ ...rec, dir: data });
  }
  return bases.sort((a, b) => a.at.localeCompare(b.at));
}

/** Records the branch's T0 clone as a base (at create; a reset moves it to the reset's time). */
export async function recordT0Base(
  ctx: Ctx,
  project: DirRef,
  branch: DirRef,
  rec: Omit<BaseRecord, "kind">,
): Promise<void> {
  const dir = await basesDir(ctx, project, branch);
  await writeRecordAt(join(dir, T0_RECORD), { kind: "t0", ...rec });
}

async function writeRecordAt(file: string, rec: BaseRecord): Promise<void> {
  await writeFile(`${file}.tmp`, JSON.stringify(rec), { mode: 0o600 });
  await rename(`${file}.tmp`, file);
}

/** Root-only: bases are cloned from and never started in place. */
async function basesDir(ctx: Ctx, project: DirRef, branch: DirRef): Promise<string> {
  const dir = ctx.paths.branchBases(project, branch);
  await mkdir(dirname(dir), { recursive: true });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/**
 * Where a periodic base named id goes; null when it is recorded already (a repeated
 * step). A leftover of an interrupted clone there is removed.
 */
export async function prepareBase(
  ctx: Ctx,
  project: DirRef,
  branch: DirRef,
  id: string,
): Promise<string | null> {
  const dir = join(await basesDir(ctx, project, branch), id);
  if (existsSync(`${dir}.json`)) return null;
  await removeTree(dir, ctx.cluster.runAs);
  return dir;
}

/** Records a complete periodic base clone at dir. */
export async function recordBase(dir: string, rec: Omit<BaseRecord, "kind">): Promise<void> {
  await writeRecordAt(`${dir}.json`, { kind: "periodic", ...rec });
}

/** An online base of a running branch (cheap on reflink); it keeps serving meanwhile. */
export async function takeBase(ctx: Ctx, project: Project, branch: Branch): Promise<Base> {
  const id = new Date().toISOString().replace(/[-:.]/g, "");
  const dir = join(await basesDir(ctx, project, branch), id);
  const url = branchUrl(project, branch);
  const clone = await cloneRunning({
    sourceDataDir: ctx.paths.branchData(project, branch),
    sourceUrl: url,
    targetDataDir: dir,
    driver: ctx.driver,
    owner: await clusterOwner(ctx, project, branch),
  });
  const rec = { at: new Date().toISOString(), lsn: clone.stopLsn, startLsn: clone.lsn };
  await recordBase(dir, rec);
  return { kind: "periodic", ...rec, dir };
}

/**
 * The span a branch can be recovered to: from its oldest base still in the window (or
 * the window's start, when an older base covers it) to now. Null: no base yet.
 */
export function historyWindow(
  ctx: Ctx,
  project: Project,
  branch: Branch,
  now = new Date(),
): { earliest: Date; now: Date; bases: Base[] } | null {
  const bases = keptBases(listBases(ctx, project, branch), windowStart(ctx, project, now));
  if (bases.length === 0) return null;
  const windowFrom = windowStart(ctx, project, now).getTime();
  const earliest = new Date(Math.max(windowFrom, Date.parse(bases[0].at)));
  return { earliest, now, bases };
}

const windowStart = (ctx: Ctx, project: Project, now: Date) =>
  new Date(now.getTime() - historyConfig(ctx, project).retentionMs);

/** Bases inside the window, and the newest one before it (it serves the window's start). */
function keptBases(bases: Base[], from: Date): Base[] {
  let first = 0;
  bases.forEach((b, i) => {
    if (Date.parse(b.at) <= from.getTime()) first = i;
  });
  return bases.slice(first);
}

const recordOf = (ctx: Ctx, project: DirRef, branch: DirRef, b: Base) =>
  b.kind === "t0" ? join(ctx.paths.branchBases(project, branch), T0_RECORD) : `${b.dir}.json`;

/** LSN "X/Y" as a byte position. */
export function lsnBytes(lsn: string): number {
  const [hi, lo] = lsn.split("/");
  return Number.parseInt(hi, 16) * 0x100000000 + Number.parseInt(lo, 16);
}

/**
 * Drops what the window no longer needs: periodic bases older than the newest one
 * before the window's start, and archived segments older than what the oldest kept
 * base replays from (T0's clone stays: it is the branch's reset point).
 */
export async function pruneHistory(
  ctx: Ctx,
  project: Project,
  branch: Branch,
  now = new Date(),
): Promise<void> {
  const all = listBases(ctx, project, branch);
  const kept = keptBases(all, windowStart(ctx, project, now));
  for (const b of all.filter((x) => !kept.includes(x))) {
    await rm(recordOf(ctx, project, branch, b), { force: true });
    if (b.kind === "periodic") await removeTree(b.dir, ctx.cluster.runAs);
  }
  if (kept.length === 0) return;
  await removeSegmentsBefore(ctx.paths.branchArchive(project, branch), kept[0].startLsn);
}

const SEGMENT = /^[0-9A-F]{24}(\.partial)?$/;

/**
 * Unlinks archived segments that end before lsn. Names only, never a walk: the archive
 * belongs to the postmaster user, and unlink removes a name, whatever it points to.
 */
async function removeSegmentsBefore(archive: string, lsn: string): Promise<void> {
  if (!existsSync(archive)) return;
  const names = readdirSync(archive).filter((n) => SEGMENT.test(n));
  if (names.length === 0) return;
  // Every segment of a cluster has its wal_segment_size (1 MB for bough's, set by initdb).
  const segSize = statSync(join(archive, names[0])).size;
  const limit = lsnBytes(lsn);
  for (const name of names) {
    const segno =
      Number.parseInt(name.slice(8, 16), 16) * (0x100000000 / segSize) +
      Number.parseInt(name.slice(16, 24), 16);
    if ((segno + 1) * segSize <= limit) await rm(join(archive, name), { force: true });
  }
}

/**
 * A reset returns the branch to T0 on the same timeline, so it writes segment names its
 * archive already holds with another history: that history (and the periodic bases) is
 * dropped, and T0 becomes a base as of the reset. Idempotent.
 */
export async function restartHistory(ctx: Ctx, project: Project, branch: Branch): Promise<void> {
  const t0 = listBases(ctx, project, branch).find((b) => b.kind === "t0");
  await removeTree(ctx.paths.branchArchive(project, branch), ctx.cluster.runAs);
  for (const b of listBases(ctx, project, branch).filter((x) => x.kind === "periodic")) {
    await rm(recordOf(ctx, project, branch, b), { force: true });
    await removeTree(b.dir, ctx.cluster.runAs);
  }
  if (t0) await recordT0Base(ctx, project, branch, { ...t0, at: new Date().toISOString() });
}

/**
 * `bough up`, every few minutes: a base of each running branch whose newest is older
 * than the project's interval (or that has none, as branches made before archiving
 * existed), then pruning.
 */
export function takeDueBases(ctx: Ctx, o: { project: string }): Promise<string[]> {
  return exclusive(ctx, async () => {
    const project = requireProject(ctx, o.project);
    const { baseEveryMs } = historyConfig(ctx, project);
    const taken: string[] = [];
    for (const branch of listBranches(ctx.db, project.id)) {
      if (!SETTLED.includes(branch.state) || !isRunning(ctx, project, branch)) continue;
      const newest = listBases(ctx, project, branch).at(-1);
      if (!newest || Date.now() - Date.parse(newest.at) >= baseEveryMs) {
        await takeBase(ctx, project, branch);
        taken.push(branch.name);
      }
      await pruneHistory(ctx, project, branch);
    }
    return taken;
  });
}

/** Newest LSN a running branch has written (an LSN target beyond it is in the future). */
export function currentLsn(url: string): Promise<string> {
  return withClient(url, async (c) => {
    const r = await c.query<{ lsn: string }>("SELECT pg_current_wal_lsn()::text AS lsn");
    return r.rows[0].lsn;
  });
}
