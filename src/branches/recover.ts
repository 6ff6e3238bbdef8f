import { updateBranch } from "../control/branches.ts";
import {
  interruptedOperations,
  type Operation,
  operationById,
  recordRecoveryFailure,
  retryDue,
} from "../control/journal.ts";
import { projectById } from "../control/projects.ts";
import type { Ctx } from "./context.ts";
import { rollbackCreate } from "./create.ts";
import { finishDelete } from "./delete.ts";
import { recoverMerge } from "./merge-recover.ts";
import { finishProjectDelete, rollbackProjectCreate } from "./projects.ts";
import { finishReset } from "./reset.ts";
import { recoverResetToParent } from "./reset-parent.ts";
import { finishRestore, rollbackRestore } from "./restore.ts";
import { recoverScratchClone } from "./scratch-clone.ts";

/** What became of one interrupted operation. */
export interface RecoveryOutcome {
  operation: number;
  kind: Operation["kind"];
  branch: string | null;
  recovered: boolean;
  /** Failed attempts so far, the last error and when the next automatic retry is due. */
  attempts: number;
  error: string | null;
  nextRetryAt: string | null;
}

/**
 * Finishes or rolls back operations whose bough process died mid-way. Creates are
 * rolled back (the parent was never written to); resets and deletes are rolled
 * forward (each of their steps is idempotent).
 *
 * A recovery that fails (a full disk, a missing T0 clone) never fails the command that
 * triggered it: the failure is recorded on the operation and its branch (state
 * `failed`), and retried with backoff by later commands, or at once by `bough repair`
 * (`force`). Other branches, read-only commands and `branch delete` keep working.
 */
export async function recoverInterrupted(
  ctx: Ctx,
  o: { force?: boolean } = {},
): Promise<RecoveryOutcome[]> {
  const outcomes: RecoveryOutcome[] = [];
  for (const op of interruptedOperations(ctx.db)) {
    if (!o.force && !retryDue(op)) continue;
    // A delete recovered just before may have closed this one (superseded).
    if (operationById(ctx.db, op.id).status !== "running") continue;
    ctx.progress(
      `recovering interrupted ${op.kind} of ${op.branchName ?? "project"} (step ${op.step})`,
    );
    let recovered = true;
    try {
      await recoverOne(ctx, op);
    } catch (err) {
      recovered = false;
      recordFailure(ctx, op, err);
    }
    outcomes.push({
      operation: op.id,
      kind: op.kind,
      branch: op.branchName,
      recovered,
      attempts: op.attempts,
      error: recovered ? null : op.error,
      nextRetryAt: recovered ? null : op.nextRetryAt,
    });
  }
  return outcomes;
}

async function recoverOne(ctx: Ctx, op: Operation): Promise<void> {
  switch (op.kind) {
    case "branch-create": {
      const project = op.projectId === null ? null : projectById(ctx, op.projectId);
      await rollbackCreate(ctx, op, project);
      return;
    }
    case "branch-reset":
      return finishReset(ctx, op);
    case "branch-reset-parent":
      return recoverResetToParent(ctx, op);
    case "branch-restore":
      // Before the swap the branch was never touched: undo; from the swap on, finish.
      return ["swapping", "swapped"].includes(op.step)
        ? finishRestore(ctx, op)
        : rollbackRestore(ctx, op);
    case "branch-delete":
      return finishDelete(ctx, op);
    case "branch-merge":
      return recoverMerge(ctx, op);
    case "project-create":
      return rollbackProjectCreate(ctx, op);
    case "project-delete":
      return finishProjectDelete(ctx, op);
    case "scratch-clone":
      return recoverScratchClone(ctx, op);
  }
}

/**
 * Marks the operation and its branch failed. On a full disk this write may fail as
 * well: the operation then simply stays interrupted and is retried next time.
 */
function recordFailure(ctx: Ctx, op: Operation, err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  try {
    ctx.db.transaction(() => {
      recordRecoveryFailure(ctx.db, op, message);
      const branchId = op.args.branchId as number | undefined;
      if (branchId !== undefined) {
        updateBranch(ctx.db, branchId, {
          state: "failed",
          lastError: `recovery of an interrupted ${op.kind} failed: ${message}`,
        });
      }
    })();
  } catch (recordErr) {
    op.error = message;
    ctx.progress(`could not record the failure: ${(recordErr as Error).message}`);
  }
  ctx.progress(`recovery of ${op.kind} of ${op.branchName ?? "project"} failed: ${message}`);
}
