import { type Holder, holderAlive, selfHolder } from "./holder.ts";
import { type Db, nowIso } from "./store.ts";

/**
 * The operations journal: every operation records its intent before it acts and
 * each step it reaches, so a later process can finish or roll back an operation
 * whose process died (kill -9, power loss) at any point.
 */
export type OperationKind =
  | "project-create"
  | "project-delete"
  | "branch-create"
  | "branch-reset"
  | "branch-reset-parent"
  | "branch-restore"
  | "branch-delete"
  | "branch-merge"
  | "scratch-clone";

export type OperationStatus = "running" | "done" | "failed" | "rolled-back";

export interface Operation {
  id: number;
  projectId: number | null;
  kind: OperationKind;
  branchName: string | null;
  step: string;
  status: OperationStatus;
  /** The process running it (pid, start time, boot id). */
  holder: Holder;
  args: Record<string, unknown>;
  startedAt: string;
  /** Failed recovery attempts so far, the last one's error and when to try again. */
  attempts: number;
  error: string | null;
  nextRetryAt: string | null;
}

interface OperationRow {
  id: number;
  project_id: number | null;
  kind: string;
  branch_name: string | null;
  step: string;
  status: string;
  pid: number;
  pid_start: number | null;
  boot_id: string | null;
  args: string;
  started_at: string;
  attempts: number;
  error: string | null;
  next_retry_at: string | null;
}

const toOperation = (r: OperationRow): Operation => ({
  id: r.id,
  projectId: r.project_id,
  kind: r.kind as OperationKind,
  branchName: r.branch_name,
  step: r.step,
  status: r.status as OperationStatus,
  holder: { pid: r.pid, startTicks: r.pid_start, bootId: r.boot_id },
  args: JSON.parse(r.args) as Record<string, unknown>,
  startedAt: r.started_at,
  attempts: r.attempts,
  error: r.error,
  nextRetryAt: r.next_retry_at,
});

export function beginOperation(
  db: Db,
  o: {
    projectId: number | null;
    kind: OperationKind;
    branchName: string | null;
    args?: Record<string, unknown>;
  },
): Operation {
  const me = selfHolder();
  const info = db
    .prepare(
      "INSERT INTO operations (project_id, kind, branch_name, step, status, pid, pid_start, boot_id, args, started_at) VALUES (?, ?, ?, 'intent', 'running', ?, ?, ?, ?, ?)",
    )
    .run(
      o.projectId,
      o.kind,
      o.branchName,
      me.pid,
      me.startTicks,
      me.bootId,
      JSON.stringify(o.args ?? {}),
      nowIso(),
    );
  return operationById(db, Number(info.lastInsertRowid));
}

export function operationById(db: Db, id: number): Operation {
  const row = db.prepare("SELECT * FROM operations WHERE id = ?").get(id) as OperationRow;
  return toOperation(row);
}

export function advance(db: Db, op: Operation, step: string, args?: Record<string, unknown>): void {
  if (args) op.args = { ...op.args, ...args };
  op.step = step;
  db.prepare("UPDATE operations SET step = ?, args = ? WHERE id = ?").run(
    step,
    JSON.stringify(op.args),
    op.id,
  );
}

export function finishOperation(
  db: Db,
  op: Operation,
  status: Exclude<OperationStatus, "running">,
  error?: string,
): void {
  db.prepare("UPDATE operations SET status = ?, finished_at = ?, error = ? WHERE id = ?").run(
    status,
    nowIso(),
    error ?? null,
    op.id,
  );
}

/** Operations still marked running whose process is gone: they were interrupted. */
export function interruptedOperations(db: Db): Operation[] {
  const rows = db
    .prepare("SELECT * FROM operations WHERE status = 'running' ORDER BY id")
    .all() as OperationRow[];
  return rows.map(toOperation).filter((op) => !holderAlive(op.holder));
}

// Retries of a failing recovery: 1 min, 2, 4, ... at most hourly (`bough repair` any time).
const RETRY_BASE_MS = 60_000;
const RETRY_MAX_MS = 3_600_000;

export const retryDue = (op: Operation, now = Date.now()): boolean =>
  op.nextRetryAt === null || Date.parse(op.nextRetryAt) <= now;

/** Records a failed recovery attempt on the operation (still running: to be retried). */
export function recordRecoveryFailure(db: Db, op: Operation, error: string): void {
  op.attempts += 1;
  op.error = error;
  const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (op.attempts - 1));
  op.nextRetryAt = new Date(Date.now() + delay).toISOString();
  db.prepare("UPDATE operations SET attempts = ?, error = ?, next_retry_at = ? WHERE id = ?").run(
    op.attempts,
    error,
    op.nextRetryAt,
    op.id,
  );
}

/**
 * Closes interrupted operations that a later operation made moot (a delete of their
 * branch or project): they must not be recovered afterwards. Only called under the
 * home lock, where no other process is running an operation.
 */
export function supersedeOperations(
  db: Db,
  o: { by: Operation; branchId?: number; projectId?: number },
): void {
  const reason = `superseded by operation ${o.by.id} (${o.by.kind})`;
  for (const op of interruptedOperations(db)) {
    if (op.id === o.by.id) continue;
    const sameBranch = o.branchId !== undefined && op.args.branchId === o.branchId;
    const sameProject = o.projectId !== undefined && op.projectId === o.projectId;
    if (sameBranch || sameProject) finishOperation(db, op, "failed", reason);
  }
}

/** Id of a project's latest operation (0 when none): moves with every create, reset, merge, delete. */
export function lastOperationId(db: Db, projectId: number): number {
  const row = db
    .prepare("SELECT coalesce(max(id), 0) AS id FROM operations WHERE project_id = ?")
    .get(projectId) as { id: number };
  return row.id;
}
