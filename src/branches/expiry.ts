import { childrenOf, expiredBranches } from "../control/branches.ts";
import { projectById } from "../control/projects.ts";
import { nowIso } from "../control/store.ts";
import type { Branch } from "../core/types.ts";
import { audited } from "./audited.ts";
import type { Ctx } from "./context.ts";
import { deleteBranchLocked } from "./delete.ts";
import { exclusive } from "./exclusive.ts";
import { requireBranch, requireProject } from "./lookup.ts";
import { periodic } from "./periodic.ts";

const SETTLED = new Set(["ready", "merged", "conflicted"]);

/**
 * Whether an expired branch goes now. Only leaves expire (as on Neon): a branch with
 * children waits until they are gone, so nobody loses a child that has no expiry of its
 * own. Root and protected branches never expire; one mid-operation waits for it to end.
 */
function due(ctx: Ctx, b: Branch, now: string): "now" | "waits" | "never" {
  if (b.expiresAt === null || b.expiresAt > now || b.parentId === null || b.protected) {
    return "never";
  }
  if (!SETTLED.has(b.state) || childrenOf(ctx.db, b.id).length > 0) return "waits";
  return "now";
}

/** Deletes one expired branch if it is still due (checked again under the lock). */
function expireBranchNow(ctx: Ctx, o: { project: string; name: string }): Promise<string[]> {
  return exclusive(ctx, async () => {
    const branch = requireBranch(ctx, requireProject(ctx, o.project), o.name);
    if (due(ctx, branch, nowIso()) !== "now") return [];
    return deleteBranchLocked(ctx, o);
  });
}

const expireBranch = audited("branch.expire", expireBranchNow, {
  // Extended or protected between the look and the lock: nothing was deleted.
  outcome: (deleted) => (deleted.length === 0 ? "SKIPPED" : null),
});

/**
 * Deletes every branch of the home whose expiry has passed, each audited as
 * `branch.expire` by the actor `expiry`. Cheap when nothing is due (one query, no lock),
 * so every CLI command can call it. `warned` remembers waiting branches already reported.
 */
export async function expireDue(
  ctx: Ctx,
  o: { by: string; warned?: Set<number> },
): Promise<string[]> {
  const now = nowIso();
  const actorCtx: Ctx = { ...ctx, actor: { kind: "expiry", name: o.by } };
  const deleted: string[] = [];
  for (const b of expiredBranches(ctx.db, now)) {
    const when = due(ctx, b, now);
    const project = projectById(ctx, b.projectId);
    if (!project || when === "never") continue;
    if (when === "waits") {
      if (!o.warned?.has(b.id)) {
        o.warned?.add(b.id);
        ctx.progress(`branch "${b.name}" expired at ${b.expiresAt}: it waits for its children`);
      }
      continue;
    }
    ctx.progress(`branch "${b.name}" expired at ${b.expiresAt}: deleting it`);
    deleted.push(...(await expireBranch(actorCtx, { project: project.name, name: b.name })));
  }
  return deleted;
}

/** `bough up`'s expiry timer: expireDue every intervalMs, one pass at a time. */
export function startExpiryWorker(
  ctx: Ctx,
  o: { intervalMs?: number; onError?: (err: Error) => void } = {},
): { stop(): Promise<void> } {
  const warned = new Set<number>();
  return periodic(
    () => expireDue(ctx, { by: "server", warned }),
    o.intervalMs ?? 2_000,
    (err) => o.onError?.(err as Error),
  );
}
