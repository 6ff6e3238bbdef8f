import { branchById } from "../control/branches.ts";
import { listMerges } from "../control/merges.ts";
import type { Ctx } from "./context.ts";
import { readOnly } from "./exclusive.ts";
import { requireProject } from "./lookup.ts";
import { historyWindow } from "./pitr-bases.ts";

/** One applied merge as `bough merges list` shows it. */
export interface MergeInfo {
  id: number;
  kind: "merge" | "into" | "rebase";
  /** The branch it was recorded on (merged, or rebased). */
  branch: string;
  /** Whose changes it carried, and the branch they ran on. */
  source: string;
  target: string;
  appliedAt: string;
  statements: number;
  migrations: string[];
  undoneAt: string | null;
  /** Whether undo can still recover the target's pre-merge state (not undone, inside its history window). */
  undoable: boolean;
}

/**
 * `bough merges list`: the project's applied merges, newest first; read-only (a merge
 * interrupted after its COMMIT is finished first when the lock is free, as list does).
 */
export function listMergeInfos(ctx: Ctx, o: { project: string }): Promise<MergeInfo[]> {
  return readOnly(ctx, () => mergeInfos(ctx, o.project));
}

function mergeInfos(ctx: Ctx, name: string): MergeInfo[] {
  const project = requireProject(ctx, name);
  return listMerges(ctx.db, project.id).map((m) => {
    const target = branchById(ctx.db, m.targetId);
    const window = target ? historyWindow(ctx, project, target) : null;
    return {
      id: m.id,
      kind: m.kind,
      branch: m.ownerName,
      source: m.sourceName,
      target: target?.name ?? `#${m.targetId}`,
      appliedAt: m.appliedAt,
      statements: (JSON.parse(m.statements) as string[]).length,
      migrations: m.migrations,
      undoneAt: m.undoneAt,
      undoable:
        m.undoneAt === null &&
        window !== null &&
        Date.parse(m.appliedAt) >= window.earliest.getTime(),
    };
  });
}
