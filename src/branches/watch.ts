import { listBranches } from "../control/branches.ts";
import { lastOperationId } from "../control/journal.ts";
import { findProject } from "../control/projects.ts";
import { isRunning } from "./branch-cluster.ts";
import type { Ctx } from "./context.ts";

/**
 * A string that changes whenever a project's branches do (added, removed, state, port,
 * error, started or stopped, any operation begun): cheap enough to compute every second, one SQLite read and
 * a pid file per branch. Lets a page be told "something changed" without diffing data.
 */
export function branchesSignature(ctx: Ctx, o: { project: string }): string {
  const project = findProject(ctx, o.project);
  if (!project) return "absent";
  return JSON.stringify([
    lastOperationId(ctx.db, project.id),
    ...listBranches(ctx.db, project.id).map((b) => [
      b.id,
      b.name,
      b.parentId,
      b.state,
      b.port,
      b.lastError,
      isRunning(ctx, project, b),
    ]),
  ]);
}
