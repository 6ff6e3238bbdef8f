import { listBranches } from "../control/branches.ts";
import { ensurePlatformSchema } from "../platform/schema.ts";
import { branchUrl, isRunning } from "./branch-cluster.ts";
import type { Ctx } from "./context.ts";
import { exclusive } from "./exclusive.ts";
import { ensureBranchKeys, projectJwtSecret } from "./keys.ts";
import { requireProject } from "./lookup.ts";
import { withClient } from "./sql.ts";

/**
 * Brings a project that predates the platform up to date (run by `bough up`): request
 * roles and platform schemas in main, the project's token secret, main's keys. Idempotent.
 */
export function preparePlatform(ctx: Ctx, o: { project: string }): Promise<void> {
  return exclusive(ctx, async () => {
    const project = requireProject(ctx, o.project);
    const main = listBranches(ctx.db, project.id).find((b) => b.parentId === null);
    if (!main) return;
    if (isRunning(ctx, project, main))
      await withClient(branchUrl(project, main), ensurePlatformSchema);
    await projectJwtSecret(ctx, project);
    await ensureBranchKeys(ctx, project, main);
  });
}
