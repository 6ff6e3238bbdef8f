import { type Db, nowIso } from "./store.ts";

/** Appends one line to the audit log: who did what to which branch. */
export function audit(
  db: Db,
  o: {
    project: string | null;
    branch: string | null;
    action: string;
    details?: Record<string, unknown>;
  },
): void {
  db.prepare("INSERT INTO audit (at, project, branch, action, details) VALUES (?, ?, ?, ?, ?)").run(
    nowIso(),
    o.project,
    o.branch,
    o.action,
    JSON.stringify(o.details ?? {}),
  );
}
