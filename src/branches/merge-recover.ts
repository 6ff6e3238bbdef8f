import { branchById, updateBranch } from "../control/branches.ts";
import { finishOperation, type Operation } from "../control/journal.ts";
import type { Ctx } from "./context.ts";
import { finishMerged, mergeLanded } from "./merge-landed.ts";
import { removeRehearsal } from "./merge-rehearse.ts";

/**
 * A merge applies to the parent in one transaction, so a merge whose process died
 * either changed nothing there (Postgres rolled it back) or committed all of it just
 * before the kill: the parent's schema hash tells which (mergeLanded). A merge that
 * landed is finished; otherwise what is left is the rehearsal clone and the branch's state.
 */
export async function recoverMerge(ctx: Ctx, op: Operation): Promise<void> {
  const rehearsal = op.args.rehearsalDir as string | undefined;
  if (rehearsal) await removeRehearsal(ctx, rehearsal, op.id);
  const branch = branchById(ctx.db, op.args.branchId as number);
  const landed = branch ? await mergeLanded(ctx, op) : null;
  if (branch && landed) {
    ctx.progress(
      `the interrupted merge of ${branch.name} had committed on its parent: finishing it`,
    );
    finishMerged(ctx, {
      op,
      branchId: branch.id,
      mergeBase: landed.mergeBase,
      baseFingerprint: landed.baseFingerprint ?? null,
      moveBase: landed.moveBase,
      landedState: landed.landedState,
      kept: landed.kept,
      preLsn: landed.preLsn,
      undoOf: landed.undoOf,
    });
    return;
  }
  ctx.db.transaction(() => {
    if (branch?.state === "merging" || branch?.state === "failed") {
      updateBranch(ctx.db, branch.id, {
        state: "ready",
        lastError: "a merge was interrupted before it committed; the parent is unchanged",
      });
    }
    finishOperation(ctx.db, op, "rolled-back");
  })();
}
