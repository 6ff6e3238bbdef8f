import { interruptedOperations } from "../control/journal.ts";
import { projectById } from "../control/projects.ts";
import type { Ctx } from "./context.ts";
import { rollbackCreate } from "./create.ts";
import { finishDelete } from "./delete.ts";
import { recoverMerge } from "./merge-recover.ts";
import { finishProjectDelete, rollbackProjectCreate } from "./projects.ts";
import { finishReset } from "./reset.ts";
import { recoverScratchClone } from "./scratch-clone.ts";

/**
 * Finishes or rolls back operations whose bough process died mid-way. Creates are
 * rolled back (the parent was never written to); resets and deletes are rolled
 * forward (each of their steps is idempotent).
 */
export async function recoverInterrupted(ctx: Ctx): Promise<void> {
  for (const op of interruptedOperations(ctx.db)) {
    ctx.progress(
      `recovering interrupted ${op.kind} of ${op.branchName ?? "project"} (step ${op.step})`,
    );
    switch (op.kind) {
      case "branch-create": {
        const project = op.projectId === null ? null : projectById(ctx.db, op.projectId);
        await rollbackCreate(ctx, op, project?.name ?? null, op.branchName ?? "");
        break;
      }
      case "branch-reset":
        await finishReset(ctx, op);
        break;
      case "branch-delete":
        await finishDelete(ctx, op);
        break;
      case "branch-merge":
        await recoverMerge(ctx, op);
        break;
      case "project-create":
        await rollbackProjectCreate(ctx, op);
        break;
      case "project-delete":
        await finishProjectDelete(ctx, op);
        break;
      case "scratch-clone":
        await recoverScratchClone(ctx, op);
        break;
    }
  }
}
