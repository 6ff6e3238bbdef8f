import { exclusiveBytes } from "../clusters/disk-usage.ts";
import { listBranches } from "../control/branches.ts";
import type { Branch, Project } from "../core/types.ts";
import type { Ctx } from "./context.ts";
import { readOnly } from "./exclusive.ts";
import { type BranchInfo, branchInfo } from "./info.ts";
import { requireBranch, requireProject } from "./lookup.ts";

export interface BranchListItem extends BranchInfo {
  /**
   * Bytes this branch adds on disk (what deleting it frees: data, T0 and log; with reflink
   * only extents no other file shares), null when the FS cannot tell.
   */
  diskBytes: number | null;
}

export interface BranchDetail extends BranchListItem {
  dataDir: string;
  /** The frozen T0 clone reset restores (null for main). */
  t0Dir: string | null;
  children: string[];
  cloneDriver: string;
}

async function withDisk(
  ctx: Ctx,
  project: Project,
  branch: Branch,
  all: Branch[],
): Promise<BranchListItem> {
  // The branch's whole directory, as delete removes it: with the copy driver the T0 copy is
  // as real as the data. With reflink only unshared extents count, so none counts twice; an
  // extent that only data and T0 still share (the parent rewrote it) counts in neither:
  // FIEMAP says "shared", not with whom.
  const diskBytes = await exclusiveBytes(ctx.paths.branchDir(project, branch), ctx.driver);
  return { ...branchInfo(ctx, project, branch, all), diskBytes };
}

export function listBranchInfos(ctx: Ctx, o: { project: string }): Promise<BranchListItem[]> {
  return readOnly(ctx, async () => {
    const project = requireProject(ctx, o.project);
    const all = listBranches(ctx.db, project.id);
    const items: BranchListItem[] = [];
    for (const branch of all) items.push(await withDisk(ctx, project, branch, all));
    return items;
  });
}

export function showBranch(ctx: Ctx, o: { project: string; name: string }): Promise<BranchDetail> {
  return readOnly(ctx, async () => {
    const project = requireProject(ctx, o.project);
    const branch = requireBranch(ctx, project, o.name);
    const all = listBranches(ctx.db, project.id);
    return {
      ...(await withDisk(ctx, project, branch, all)),
      dataDir: ctx.paths.branchData(project, branch),
      t0Dir: branch.parentId === null ? null : ctx.paths.branchT0(project, branch),
      children: all.filter((b) => b.parentId === branch.id).map((b) => b.name),
      cloneDriver: ctx.driver.name,
    };
  });
}

/** One branch without the disk figure (cheap: for `branch url`). */
export function getBranch(ctx: Ctx, o: { project: string; name: string }): Promise<BranchInfo> {
  return readOnly(ctx, async () => {
    const project = requireProject(ctx, o.project);
    return branchInfo(ctx, project, requireBranch(ctx, project, o.name));
  });
}
