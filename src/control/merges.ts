import { type Db, nowIso } from "./store.ts";

/** One applied merge (merge, --into, rebase) as undo needs it. */
export interface MergeRecord {
  id: number;
  projectId: number;
  kind: "merge" | "into" | "rebase";
  /** The branch the merge was recorded on (its name as it was then: it may be deleted since). */
  ownerId: number;
  ownerName: string;
  sourceName: string;
  /** The branch the statements ran on. */
  targetId: number;
  operationId: number;
  appliedAt: string;
  /** The target's WAL insert position just before the merge's COMMIT: recovered to (exclusive), it is the pre-merge state. */
  preLsn: string;
  /** Snapshot JSON of the target as the merge left it (the rehearsed expected result). */
  postSnapshot: string;
  /** The catalog fingerprint JSON of the rehearsed result (null: none). */
  postFingerprint: string | null;
  /** The plan's statements as applied (JSON), for review. */
  statements: string;
  migrations: string[];
  /** Whether the owner's merge base moved; then prevMergeBase is what it was before. */
  baseMoved: boolean;
  /** sha256 of the merge base the merge set (an undo restores prevMergeBase only while it is still that one). */
  landedBaseHash: string | null;
  prevMergeBase: string | null;
  prevBaseFingerprint: string | null;
  undoneAt: string | null;
  undoOperationId: number | null;
}

export type NewMerge = Omit<MergeRecord, "id" | "appliedAt" | "undoneAt" | "undoOperationId">;

interface Row {
  id: number;
  project_id: number;
  kind: MergeRecord["kind"];
  owner_id: number;
  owner_name: string;
  source_name: string;
  target_id: number;
  operation_id: number;
  applied_at: string;
  pre_lsn: string;
  post_snapshot: string;
  post_fingerprint: string | null;
  statements: string;
  migrations: string;
  base_moved: number;
  landed_base_hash: string | null;
  prev_merge_base: string | null;
  prev_base_fingerprint: string | null;
  undone_at: string | null;
  undo_operation_id: number | null;
}

const fromRow = (r: Row): MergeRecord => ({
  id: r.id,
  projectId: r.project_id,
  kind: r.kind,
  ownerId: r.owner_id,
  ownerName: r.owner_name,
  sourceName: r.source_name,
  targetId: r.target_id,
  operationId: r.operation_id,
  appliedAt: r.applied_at,
  preLsn: r.pre_lsn,
  postSnapshot: r.post_snapshot,
  postFingerprint: r.post_fingerprint,
  statements: r.statements,
  migrations: JSON.parse(r.migrations) as string[],
  baseMoved: r.base_moved === 1,
  landedBaseHash: r.landed_base_hash,
  prevMergeBase: r.prev_merge_base,
  prevBaseFingerprint: r.prev_base_fingerprint,
  undoneAt: r.undone_at,
  undoOperationId: r.undo_operation_id,
});

/** Records a landed merge; one per operation (a recovery finishing it again records nothing new). */
export function insertMerge(db: Db, m: NewMerge): void {
  const seen = db.prepare("SELECT 1 FROM merges WHERE operation_id = ?").get(m.operationId);
  if (seen) return;
  db.prepare(
    `INSERT INTO merges (project_id, kind, owner_id, owner_name, source_name, target_id, operation_id,
       applied_at, pre_lsn, post_snapshot, post_fingerprint, statements, migrations, base_moved,
       landed_base_hash, prev_merge_base, prev_base_fingerprint)
     VALUES (@projectId, @kind, @ownerId, @ownerName, @sourceName, @targetId, @operationId,
       @appliedAt, @preLsn, @postSnapshot, @postFingerprint, @statements, @migrations, @baseMoved,
       @landedBaseHash, @prevMergeBase, @prevBaseFingerprint)`,
  ).run({
    ...m,
    appliedAt: nowIso(),
    migrations: JSON.stringify(m.migrations),
    baseMoved: m.baseMoved ? 1 : 0,
  });
}

/** A project's merges, newest first. */
export function listMerges(db: Db, projectId: number): MergeRecord[] {
  const rows = db
    .prepare("SELECT * FROM merges WHERE project_id = ? ORDER BY id DESC")
    .all(projectId) as Row[];
  return rows.map(fromRow);
}

export function mergeById(db: Db, projectId: number, id: number): MergeRecord | null {
  const row = db
    .prepare("SELECT * FROM merges WHERE project_id = ? AND id = ?")
    .get(projectId, id) as Row | undefined;
  return row ? fromRow(row) : null;
}

/** The newest merge recorded on a branch that is not undone. */
export function lastMergeOf(db: Db, ownerId: number): MergeRecord | null {
  const row = db
    .prepare(
      "SELECT * FROM merges WHERE owner_id = ? AND undone_at IS NULL ORDER BY id DESC LIMIT 1",
    )
    .get(ownerId) as Row | undefined;
  return row ? fromRow(row) : null;
}

export function markUndone(db: Db, id: number, operationId: number): void {
  db.prepare(
    "UPDATE merges SET undone_at = ?, undo_operation_id = ? WHERE id = ? AND undone_at IS NULL",
  ).run(nowIso(), operationId, id);
}
