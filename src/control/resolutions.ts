import type { Resolution, Side } from "../merge/diff/resolve.ts";
import { type Db, nowIso } from "./store.ts";

export interface RecordedResolution {
  conflictId: string;
  take: Side;
  digest: string;
  recordedAt: string;
}

/** Records (or replaces) the decision for one conflict id of a branch. */
export function recordResolution(
  db: Db,
  branchId: number,
  r: { conflictId: string; take: Side; digest: string },
): void {
  db.prepare(
    `INSERT INTO merge_resolutions (branch_id, conflict_id, take, digest, recorded_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (branch_id, conflict_id) DO UPDATE SET take = excluded.take, digest = excluded.digest, recorded_at = excluded.recorded_at`,
  ).run(branchId, r.conflictId, r.take, r.digest, nowIso());
}

export function listResolutions(db: Db, branchId: number): RecordedResolution[] {
  const rows = db
    .prepare(
      "SELECT conflict_id, take, digest, recorded_at FROM merge_resolutions WHERE branch_id = ? ORDER BY conflict_id",
    )
    .all(branchId) as { conflict_id: string; take: Side; digest: string; recorded_at: string }[];
  return rows.map((r) => ({
    conflictId: r.conflict_id,
    take: r.take,
    digest: r.digest,
    recordedAt: r.recorded_at,
  }));
}

/** The recorded decisions as the merge engine takes them. */
export const recordedResolutions = (db: Db, branchId: number): Resolution[] =>
  listResolutions(db, branchId).map((r) => ({
    id: r.conflictId,
    take: r.take,
    digest: r.digest,
    source: "recorded",
  }));

/** Forgets one decision, or all of a branch's (after a merge landed, or a reset). */
export function clearResolutions(db: Db, branchId: number, conflictId?: string): number {
  const r =
    conflictId === undefined
      ? db.prepare("DELETE FROM merge_resolutions WHERE branch_id = ?").run(branchId)
      : db
          .prepare("DELETE FROM merge_resolutions WHERE branch_id = ? AND conflict_id = ?")
          .run(branchId, conflictId);
  return r.changes;
}
