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
  pid: number;
  args: Record<string, unknown>;
  startedAt: string;
}

interface OperationRow {
  id: number;
  project_id: number | null;
  kind: string;
  branch_name: string | null;
  step: string;
  status: string;
  pid: number;
  args: string;
  started_at: string;
}

const toOperation = (r: OperationRow): Operation => ({
  id: r.id,
  projectId: r.project_id,
  kind: r.kind as OperationKind,
  branchName: r.branch_name,
  step: r.step,
  status: r.status as OperationStatus,
  pid: r.pid,
  args: JSON.parse(r.args) as Record<string, unknown>,
  startedAt: r.started_at,
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
  const info = db
    .prepare(
      "INSERT INTO operations (project_id, kind, branch_name, step, status, pid, args, started_at) VALUES (?, ?, ?, 'intent', 'running', ?, ?, ?)",
    )
    .run(o.projectId, o.kind, o.branchName, process.pid, JSON.stringify(o.args ?? {}), nowIso());
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
  return rows.map(toOperation).filter((op) => !pidAlive(op.pid));
}

export function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
