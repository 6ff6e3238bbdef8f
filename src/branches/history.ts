import { sinceInstant } from "../core/since.ts";
import { type DdlEntry, readDdlLog } from "../platform/ddl-log/read.ts";
import { ensurePlatformSchema, hasPlatformSchema } from "../platform/schema.ts";
import { branchUrl, startBranch } from "./branch-cluster.ts";
import type { Ctx } from "./context.ts";
import { exclusive } from "./exclusive.ts";
import { requireSettled } from "./journaled.ts";
import { requireBranch, requireProject } from "./lookup.ts";
import { withClient } from "./sql.ts";

export interface BranchHistoryOptions {
  project: string;
  name: string;
  /** Only statements at or after this ISO instant or age (30m, 1h, 7d). */
  since?: string;
}

export interface BranchHistory {
  project: string;
  branch: string;
  /** T0: the history starts here (null for a root branch: its whole life). */
  forkedAt: string | null;
  entries: DdlEntry[];
}

/**
 * `bough branch history`: the DDL statements run on the branch since its fork, oldest
 * first, from the branch's own bough.ddl_log. A branch that predates the log gets it
 * installed here (it records from now on). Starts a stopped branch; changes nothing else.
 */
export function branchHistory(ctx: Ctx, o: BranchHistoryOptions): Promise<BranchHistory> {
  return exclusive(ctx, async () => {
    const project = requireProject(ctx, o.project);
    const branch = requireBranch(ctx, project, o.name);
    requireSettled(branch, "read its history");
    const live = await startBranch(ctx, project, branch);
    const entries = await withClient(branchUrl(project, live), async (c) => {
      if (!(await hasPlatformSchema(c))) await ensurePlatformSchema(c);
      return readDdlLog(c, { since: o.since === undefined ? undefined : sinceInstant(o.since) });
    });
    return { project: project.name, branch: branch.name, forkedAt: branch.forkedAt, entries };
  });
}
