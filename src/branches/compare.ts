import type { Snapshot } from "../merge/catalog/snapshot.ts";
import type { Change } from "../merge/diff/changes.ts";
import { diff3 } from "../merge/diff/diff3.ts";
import { introspect } from "../merge/introspect/index.ts";
import { renderCompareSummary } from "../merge/render/index.ts";
import { branchUrl, startBranch } from "./branch-cluster.ts";
import type { Ctx } from "./context.ts";
import { exclusive } from "./exclusive.ts";
import { requireBranch, requireProject } from "./lookup.ts";
import { recoverInto, resolveTarget } from "./pitr.ts";
import { withScratchClone } from "./scratch-clone.ts";
import { withClient } from "./sql.ts";

export interface CompareReport {
  a: string;
  b: string;
  /** B as it was then (ISO time or LSN), or null for B now. */
  bAt: string | null;
  /** What turns A's schema (and config rows) into B's. */
  changes: Change[];
  summary: string;
}

/**
 * `bough branch diff A B [--at TIME]`: a two-way diff of any two branches of a project,
 * the merge engine's diff with A as both base and "parent", so every change is what B
 * has that A has not. With a point in time, B is recovered from its history into a
 * throwaway clone (journaled like every scratch clone); neither branch is written to.
 */
export function compareBranches(
  ctx: Ctx,
  o: { project: string; a: string; b: string; at?: string; lsn?: string },
): Promise<CompareReport> {
  const past = o.at !== undefined || o.lsn !== undefined;
  return exclusive(ctx, async () => {
    const target = past ? await resolveTarget(o) : undefined;
    const project = requireProject(ctx, o.project);
    const a = await startBranch(ctx, project, requireBranch(ctx, project, o.a));
    const b = requireBranch(ctx, project, o.b);
    const snapA = await snapshotOf(branchUrl(project, a));
    const snapB = target
      ? await withScratchClone(
          ctx,
          {
            project,
            source: b,
            purpose: "diff-at",
            make: async (t) => {
              await recoverInto(ctx, {
                project,
                source: b,
                target,
                dataDir: t.dir,
                port: t.port,
                logFile: t.logFile,
                archive: {},
                owner: t.owner,
              });
            },
          },
          snapshotOf,
        )
      : await snapshotOf(branchUrl(project, await startBranch(ctx, project, b)));
    const { changes } = diff3(snapA, snapA, snapB);
    const bAt = target ? ("time" in target ? target.time.toISOString() : target.lsn) : null;
    const title = `${o.a} → ${o.b}${bAt ? ` as of ${bAt}` : ""}`;
    return {
      a: o.a,
      b: o.b,
      bAt,
      changes,
      summary: renderCompareSummary(`Diff ${title}`, changes),
    };
  });
}

const snapshotOf = (url: string): Promise<Snapshot> => withClient(url, (c) => introspect(c));
