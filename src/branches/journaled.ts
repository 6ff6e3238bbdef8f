import { updateBranch } from "../control/branches.ts";
import { beginOperation, type Operation, type OperationKind } from "../control/journal.ts";
import { BoughError } from "../core/errors.ts";
import type { Branch, BranchState, Project } from "../core/types.ts";
import type { Ctx } from "./context.ts";

/** States in which no operation is under way on a branch. */
export const SETTLED: BranchState[] = ["ready", "merged", "conflicted"];

/** Refuses to act on a branch another operation is still working on. */
export function requireSettled(branch: Branch, action: string): void {
  if (branch.state === "failed") {
    throw new BoughError(
      "BRANCH_BAD_STATE",
      `branch "${branch.name}" failed: ${branch.lastError ?? "its recovery failed"}`,
      `fix the cause and run \`bough repair\`, or \`bough branch delete ${branch.name}\``,
    );
  }
  if (!SETTLED.includes(branch.state)) {
    throw new BoughError(
      "BRANCH_BAD_STATE",
      `branch "${branch.name}" is ${branch.state}`,
      `wait for that operation to finish (any bough command recovers an interrupted one), then ${action}`,
    );
  }
}

/** Records the intent of an operation on a branch and its new state, atomically, before acting. */
export function beginBranchOperation(
  ctx: Ctx,
  o: {
    project: Project;
    branch: Branch;
    kind: OperationKind;
    state: BranchState;
    args?: Record<string, unknown>;
  },
): Operation {
  return ctx.db.transaction(() => {
    updateBranch(ctx.db, o.branch.id, { state: o.state });
    return beginOperation(ctx.db, {
      projectId: o.project.id,
      kind: o.kind,
      branchName: o.branch.name,
      args: { branchId: o.branch.id, ...o.args },
    });
  })();
}
