import { listBranches } from "../control/branches.ts";
import { BoughError } from "../core/errors.ts";
import type { Branch, BranchState, Project } from "../core/types.ts";
import type { Ctx } from "./context.ts";
import { requireBranch, requireChildBranch, requireProject } from "./lookup.ts";
import { type MergeBase, mergeBaseWithParent, t0BaseOf } from "./merge-prepare.ts";

/** Who is merged into whom, on which three-way base, and what landing changes. */
export interface MergeRoute {
  /** undo: a merge reverted (src/branches/merge-undo.ts): the source is the target's pre-merge state. */
  kind: "merge" | "into" | "rebase" | "undo";
  project: Project;
  /** Whose changes are carried. */
  source: Branch;
  /** The branch the statements run on. */
  target: Branch;
  /** The branch the operation is recorded on: its state shows merging or conflicted. */
  owner: Branch;
  base: MergeBase;
  /** Decisions recorded with `bough branch resolve` apply (only to a merge into the parent). */
  recorded: boolean;
  /** After landing, the owner's merge base becomes the source's snapshot. */
  moveBase: boolean;
  landedState: BranchState;
  /** For an undo: the id of the merge it reverts. */
  undoOf?: number;
}

/** A merge into the parent (the default), or `--into` another branch. */
export function mergeRouteOf(
  ctx: Ctx,
  o: { project: string; name: string; into?: string },
): MergeRoute {
  if (o.into === undefined) {
    const { project, branch, parent } = requireChildBranch(ctx, {
      ...o,
      what: "merged (it has no parent)",
      hint: "merge a branch created with `bough branch create`, or name a target with --into",
    });
    return parentRoute(ctx, { project, source: branch, target: parent });
  }
  const project = requireProject(ctx, o.project);
  const source = requireBranch(ctx, project, o.name);
  const target = requireBranch(ctx, project, o.into);
  if (source.id === target.id) {
    throw new BoughError(
      "INVALID_INPUT",
      `cannot merge "${source.name}" into itself`,
      "name another branch with --into",
    );
  }
  if (source.parentId === target.id) return parentRoute(ctx, { project, source, target });
  return {
    kind: "into",
    project,
    source,
    target,
    owner: source,
    base: commonBase(ctx, project, source, target),
    recorded: false,
    moveBase: false,
    landedState: source.state,
  };
}

/** `bough branch rebase NAME`: the parent's changes since the base, onto the branch. */
export function rebaseRouteOf(ctx: Ctx, o: { project: string; name: string }): MergeRoute {
  const { project, branch, parent } = requireChildBranch(ctx, {
    ...o,
    what: "rebased (it has no parent)",
    hint: "rebase a branch created with `bough branch create`",
  });
  return {
    kind: "rebase",
    project,
    source: parent,
    target: branch,
    owner: branch,
    base: mergeBaseWithParent(ctx, branch.id),
    recorded: false,
    moveBase: true,
    landedState: "ready",
  };
}

function parentRoute(
  ctx: Ctx,
  o: { project: Project; source: Branch; target: Branch },
): MergeRoute {
  return {
    kind: "merge",
    ...o,
    owner: o.source,
    base: mergeBaseWithParent(ctx, o.source.id),
    recorded: true,
    moveBase: true,
    landedState: "merged",
  };
}

/**
 * The newest state both branches contain: below their closest common ancestor, the T0
 * of whichever side's first branch forked earlier (the later fork already holds it). A
 * merge into a descendant uses the T0 of the descendant's side alone.
 */
function commonBase(ctx: Ctx, project: Project, a: Branch, b: Branch): MergeBase {
  const byId = new Map(listBranches(ctx.db, project.id).map((x) => [x.id, x]));
  const chain = (x: Branch): Branch[] => {
    const out = [x];
    for (let p = x.parentId; p !== null; p = byId.get(p)?.parentId ?? null) {
      const next = byId.get(p);
      if (!next) break;
      out.push(next);
    }
    return out;
  };
  const fromA = chain(a);
  const fromB = chain(b);
  const onB = new Set(fromB.map((x) => x.id));
  const lca = fromA.findIndex((x) => onB.has(x.id));
  const lcaId = fromA[lca].id;
  // The child of the common ancestor on each side (null when that side is the ancestor).
  const sideA = lca > 0 ? fromA[lca - 1] : null;
  const iB = fromB.findIndex((x) => x.id === lcaId);
  const sideB = iB > 0 ? fromB[iB - 1] : null;
  const first =
    sideA && sideB
      ? (sideA.forkedAt ?? "") <= (sideB.forkedAt ?? "")
        ? sideA
        : sideB
      : (sideA ?? sideB);
  if (!first) throw new Error(`no common base for ${a.name} and ${b.name}`);
  return t0BaseOf(ctx, first.id);
}
