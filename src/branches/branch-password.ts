import { createHmac } from "node:crypto";
import { connectionString } from "../clusters/cluster.ts";
import { lineageOf } from "../control/branches.ts";
import { BoughError } from "../core/errors.ts";
import { quoteLiteral } from "../core/names.ts";
import type { Branch, Project } from "../core/types.ts";
import type { Ctx } from "./context.ts";
import { withClient } from "./sql.ts";

/**
 * The password of `postgres` on a branch's own cluster. The root branch has the project's;
 * every other branch one of its own, derived from the project's (branch ids are never
 * reused), so a branch's connection string opens nothing but that branch: not its parent,
 * not a sibling. Derived rather than stored: nothing to lose, nothing to migrate.
 */
export function branchPassword(project: Project, branch: Branch): string {
  if (branch.parentId === null) return project.password;
  return createHmac("sha256", project.password)
    .update(`postgres-password:branch:${branch.id}`)
    .digest("base64url");
}

const INVALID_PASSWORD = "28P01";

/**
 * A URL that logs in to the cluster on `port` as `postgres`, trying the branch's own
 * password, then each ancestor's: a clone (a new branch, a reset, a point-in-time
 * recovery) still carries the password of the cluster it was cloned from.
 */
export async function reachableUrl(
  ctx: Ctx,
  project: Project,
  branch: Branch,
  port: number,
  /** A sandboxed cluster's socket directory (clusters/sandbox.ts). */
  socketDir?: string,
): Promise<{ url: string; own: boolean }> {
  const line = lineageOf(ctx.db, branch);
  for (const [i, b] of line.entries()) {
    const url = connectionString({ port, socketDir, password: branchPassword(project, b) });
    try {
      await withClient(url, async () => {});
      return { url, own: i === 0 };
    } catch (err) {
      if ((err as { code?: string }).code !== INVALID_PASSWORD) throw err;
    }
  }
  throw new BoughError(
    "CLUSTER_FAILED",
    `cannot log in to branch "${branch.name}" as postgres: its password is neither its own nor an ancestor's`,
    `the postgres password was changed from inside the branch; set it back with ALTER ROLE postgres PASSWORD ... (see \`bough branch url ${branch.name}\` on the parent), or reset the branch`,
  );
}

/**
 * Gives the cluster on `port` the branch's own password, if it still has the one of the
 * cluster it was cloned from. Run after every start of a branch's cluster, before its
 * connection string is handed out.
 */
export async function adoptPassword(
  ctx: Ctx,
  project: Project,
  branch: Branch,
  port: number,
): Promise<void> {
  const reach = await reachableUrl(ctx, project, branch, port);
  if (reach.own) return;
  await withClient(reach.url, (c) =>
    c.query(`ALTER ROLE postgres PASSWORD ${quoteLiteral(branchPassword(project, branch))}`),
  );
}
