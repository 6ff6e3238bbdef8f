import { BoughError } from "../core/errors.ts";
import type { Branch, Project } from "../core/types.ts";
import { isRunning } from "./branch-cluster.ts";
import type { Actor, Ctx } from "./context.ts";
import { requireBranch, requireProject } from "./lookup.ts";
import { startBranchOp } from "./start-stop.ts";

/** Who the audit log names for what the Postgres proxy does (lazy starts, idle stops). */
export const PROXY_ACTOR: Actor = { kind: "proxy", name: "proxy" };

/** The branch a proxy connection names, or the error to answer it with; nothing is started. */
export function proxyTarget(
  ctx: Ctx,
  o: { project: string; name: string },
): {
  project: Project;
  branch: Branch;
} {
  const project = requireProject(ctx, o.project);
  const branch = requireBranch(ctx, project, o.name);
  if (branch.state === "deleting") {
    throw new BoughError(
      "BRANCH_NOT_FOUND",
      `branch "${branch.name}" is being deleted`,
      "run `bough branch list` to see branches",
    );
  }
  if (branch.state === "creating") {
    throw new BoughError("BUSY", `branch "${branch.name}" is being created`, "retry in a moment");
  }
  return { project, branch };
}

/**
 * Makes sure a branch accepts connections: a stopped one (by scale to zero, or by anyone)
 * is started through the journaled, audited start, as the proxy. Returns its branch row
 * as it is now (the port may have moved) and whether this call started it.
 */
export async function wakeBranch(
  ctx: Ctx,
  t: { project: Project; branch: Branch },
): Promise<{ branch: Branch; started: boolean }> {
  if (isRunning(ctx, t.project, t.branch)) return { branch: t.branch, started: false };
  await startBranchOp(
    { ...ctx, actor: PROXY_ACTOR },
    {
      project: t.project.name,
      name: t.branch.name,
    },
  );
  return { branch: requireBranch(ctx, t.project, t.branch.name), started: true };
}
