import { branchById, updateBranch } from "../control/branches.ts";
import { finishOperation, type Operation } from "../control/journal.ts";
import { insertMerge, markUndone, type NewMerge } from "../control/merges.ts";
import { projectById } from "../control/projects.ts";
import { clearResolutions } from "../control/resolutions.ts";
import type { BranchState } from "../core/types.ts";
import { snapshotHash } from "../merge/catalog/equality.ts";
import { introspect } from "../merge/introspect/index.ts";
import { listMigrations } from "../merge/migrations.ts";
import { branchUrl, startBranch } from "./branch-cluster.ts";
import type { Ctx } from "./context.ts";
import { sideConnections, withClient } from "./sql.ts";

/**
 * What a merge records in its journal entry before it applies, so that a process
 * killed between the parent's COMMIT and the journal update can be finished.
 */
export interface LandingRecord {
  parentId: number;
  /** snapshotHash of the parent as the merge leaves it (the rehearsed expected result). */
  postMergeHash: string;
  /** The branch snapshot that becomes the merge base once the merge is in (an undo: the base before the merge, null for T0). */
  mergeBase: string | null;
  /** The branch's catalog fingerprint, which becomes the base fingerprint with it (null: none). */
  baseFingerprint: string | null;
  /** Names of the migrations it records in the parent's bough.migrations, in the same transaction. */
  migrations: string[];
  /**
   * Whether the operation's branch takes mergeBase as its new base (a merge into the
   * parent, a rebase; not a merge into another branch), and the state it lands in.
   * Absent in records of older bough versions: true and "merged".
   */
  moveBase?: boolean;
  landedState?: BranchState;
  /** What undo keeps of a merge (absent for an undo, and in records of older bough versions). */
  kept?: KeptMerge;
  /** The target's WAL insert position just before COMMIT, journaled inside the transaction. */
  preLsn?: string;
  /** An undo: the id of the merge it reverts, marked undone when it lands. */
  undoOf?: number;
}

/** The merge record except what only the operation knows (its id, the pre-commit WAL position). */
export type KeptMerge = Omit<NewMerge, "operationId" | "preLsn">;

/** What a landed merge changes on the branch it was recorded on. */
export interface Landing {
  branchId: number;
  /** The new merge base; null (an undo of a branch's first merge): back to T0. */
  mergeBase: string | null;
  baseFingerprint: string | null;
  moveBase?: boolean;
  landedState?: BranchState;
  kept?: KeptMerge;
  preLsn?: string;
  undoOf?: number;
}

/**
 * The branch's state after a merge landed (or had nothing to apply): its merge base
 * moves to what was merged unless told otherwise, and with it go the decisions recorded
 * for conflicts against the old base. Call inside a control-plane transaction.
 */
export function recordLanding(ctx: Ctx, o: Landing): void {
  const moves = o.moveBase !== false;
  updateBranch(ctx.db, o.branchId, {
    state: o.landedState ?? "merged",
    lastError: null,
    ...(moves ? { mergeBase: o.mergeBase, baseFingerprint: o.baseFingerprint } : {}),
  });
  if (moves) clearResolutions(ctx.db, o.branchId);
}

/**
 * A merge is in: the landing is recorded, the merge kept for undo (or the merge an undo
 * reverted marked undone) and the operation is done, in one transaction.
 */
export function finishMerged(ctx: Ctx, o: Landing & { op: Operation }): void {
  ctx.db.transaction(() => {
    recordLanding(ctx, o);
    if (o.kept && o.preLsn)
      insertMerge(ctx.db, { ...o.kept, preLsn: o.preLsn, operationId: o.op.id });
    if (o.undoOf !== undefined) markUndone(ctx.db, o.undoOf, o.op.id);
    finishOperation(ctx.db, o.op, "done");
  })();
}

/**
 * Whether an interrupted merge committed on the parent: its schema hash is the one the
 * merge was to leave, and the migrations it replayed are recorded there (they commit
 * with it, which also decides a merge whose migrations change nothing bough models).
 * Only a merge that reached its apply step can have committed. A parent changed again
 * after the kill reads as "not applied"; merging again is then a no-op for what both
 * sides already have.
 */
export async function mergeLanded(ctx: Ctx, op: Operation): Promise<LandingRecord | null> {
  const rec = op.args as Partial<LandingRecord>;
  if (op.step !== "applying" || !rec.postMergeHash || rec.mergeBase === undefined || !rec.parentId)
    return null;
  const project = op.projectId === null ? null : projectById(ctx, op.projectId);
  const parent = branchById(ctx.db, rec.parentId);
  if (!project || !parent) return null;
  const live = await startBranch(ctx, project, parent);
  const names = rec.migrations ?? [];
  const url = branchUrl(project, live);
  const landed = await withClient(url, async (c) => {
    if (snapshotHash(await introspect(c, sideConnections(url))) !== rec.postMergeHash) return false;
    if (names.length === 0) return true;
    const recorded = (await listMigrations(c)).filter((m) => names.includes(m.name));
    return recorded.length === names.length;
  });
  return landed ? (rec as LandingRecord) : null;
}
