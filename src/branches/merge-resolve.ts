import {
  clearResolutions,
  listResolutions,
  type RecordedResolution,
  recordResolution,
} from "../control/resolutions.ts";
import { BoughError } from "../core/errors.ts";
import { conflictDigest, conflictIds, type Side } from "../merge/diff/resolve.ts";
import { audited } from "./audited.ts";
import { startBranch } from "./branch-cluster.ts";
import type { Ctx } from "./context.ts";
import { exclusive } from "./exclusive.ts";
import { requireSettled } from "./journaled.ts";
import { requireChildBranch } from "./lookup.ts";
import { prepareMerge } from "./merge-prepare.ts";

export interface ResolveOptions {
  project: string;
  name: string;
  /** The conflict id as the merge report prints it. */
  id: string;
  take: Side;
}

export interface ResolveReport {
  branch: string;
  parent: string;
  id: string;
  take: Side;
  /** The conflicts of the branch's merge still open once this is recorded. */
  remaining: string[];
}

/**
 * Records on the branch which side wins one conflict of its merge into the parent. The
 * merge is planned read-only to see the conflict as it is; the decision is bound to it,
 * so if either side changes that object again it is not applied to the new conflict.
 */
async function resolveNow(ctx: Ctx, o: ResolveOptions): Promise<ResolveReport> {
  return exclusive(ctx, async () => {
    const found = childBranch(ctx, o);
    for (const b of [found.branch, found.parent]) requireSettled(b, "resolve");
    const branch = await startBranch(ctx, found.project, found.branch);
    const parent = await startBranch(ctx, found.project, found.parent);
    const prepared = await prepareMerge(ctx, { project: found.project, branch, parent });
    const ids = conflictIds(prepared.rawDiff);
    if (!ids.includes(o.id)) {
      throw new BoughError(
        "INVALID_INPUT",
        `"${o.id}" is not a conflict of merging ${branch.name} into ${parent.name}`,
        ids.length > 0
          ? `the conflicts are: ${ids.join(", ")}`
          : "the merge has no conflicts: nothing to resolve",
      );
    }
    recordResolution(ctx.db, branch.id, {
      conflictId: o.id,
      take: o.take,
      digest: conflictDigest(prepared.rawDiff, o.id),
    });
    const settled = new Set([
      o.id,
      ...prepared.resolved.filter((r) => r.source === "recorded").map((r) => r.id),
    ]);
    return {
      branch: branch.name,
      parent: parent.name,
      id: o.id,
      take: o.take,
      remaining: ids.filter((id) => !settled.has(id)),
    };
  });
}

export const resolveConflict = audited("branch.resolve", resolveNow);

const childBranch = (ctx: Ctx, o: { project: string; name: string }) =>
  requireChildBranch(ctx, {
    ...o,
    what: "merged (it has no parent)",
    hint: "resolve conflicts of a branch created with `bough branch create`",
  });

/** The decisions recorded on a branch, for `bough branch resolve NAME --list`. */
export function listRecordedResolutions(
  ctx: Ctx,
  o: { project: string; name: string },
): RecordedResolution[] {
  const { branch } = childBranch(ctx, o);
  return listResolutions(ctx.db, branch.id);
}

/** Forgets one recorded decision (or all of them) on a branch; returns how many. */
async function clearNow(ctx: Ctx, o: { project: string; name: string; id?: string }) {
  const { branch } = childBranch(ctx, o);
  return { branch: branch.name, cleared: clearResolutions(ctx.db, branch.id, o.id) };
}

export const clearRecordedResolutions = audited("branch.resolve-clear", clearNow);
