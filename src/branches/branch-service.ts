import type pg from "pg";
import type { Branch, Project } from "../core/types.ts";
import { ensurePlatformSchema, hasPlatformSchema } from "../platform/schema.ts";
import { branchUrl, startBranch } from "./branch-cluster.ts";
import type { Ctx } from "./context.ts";
import { requireSettled } from "./journaled.ts";
import { withClient } from "./sql.ts";

/**
 * Runs fn in one transaction on a branch's database as its superuser, for CLI commands of
 * the platform services (secrets, email) that work without `bough up`: starts the branch
 * if stopped and installs the platform schema on a branch that predates it. Call inside
 * exclusive().
 */
export async function withPlatformClient<T>(
  ctx: Ctx,
  project: Project,
  branch: Branch,
  fn: (c: pg.ClientBase) => Promise<T>,
): Promise<T> {
  requireSettled(branch, "retry");
  const live = await startBranch(ctx, project, branch);
  return withClient(branchUrl(project, live), async (c) => {
    if (!(await hasPlatformSchema(c))) await ensurePlatformSchema(c);
    return clientTx(c)(fn);
  });
}

/** Transactions on one open client, one after the other. */
export function clientTx(c: pg.ClientBase) {
  return async <T>(fn: (c: pg.ClientBase) => Promise<T>): Promise<T> => {
    await c.query("BEGIN");
    try {
      const out = await fn(c);
      await c.query("COMMIT");
      return out;
    } catch (err) {
      await c.query("ROLLBACK").catch(() => {});
      throw err;
    }
  };
}
