import { type Db, nowIso } from "./store.ts";

/** One line of the audit log: who did what to which branch, and how it ended. */
export interface AuditEntry {
  id: number;
  at: string;
  actor: { kind: string; name: string; client: string | null } | null;
  action: string;
  project: string | null;
  branch: string | null;
  /** The call's arguments, secrets redacted. */
  args: Record<string, unknown>;
  /** "ok", or the error code it failed with. */
  result: string;
  durationMs: number | null;
}

export interface AuditRecord {
  project: string | null;
  branch: string | null;
  action: string;
  details?: Record<string, unknown>;
  actor?: { kind: string; name: string; client?: string } | null;
  result?: string;
  durationMs?: number;
}

/** Appends one line to the audit log (the table refuses updates and deletes). */
export function audit(db: Db, o: AuditRecord): void {
  db.prepare(
    "INSERT INTO audit (at, project, branch, action, details, actor_kind, actor_name, actor_client, result, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
  ).run(
    nowIso(),
    o.project,
    o.branch,
    o.action,
    JSON.stringify(o.details ?? {}),
    o.actor?.kind ?? null,
    o.actor?.name ?? null,
    o.actor?.client ?? null,
    o.result ?? "ok",
    o.durationMs === undefined ? null : Math.round(o.durationMs),
  );
}

interface AuditRow {
  id: number;
  at: string;
  project: string | null;
  branch: string | null;
  action: string;
  details: string;
  actor_kind: string | null;
  actor_name: string | null;
  actor_client: string | null;
  result: string;
  duration_ms: number | null;
}

/**
 * The log, oldest first, optionally of one project / branch, since an instant (ISO) and
 * after a line id (ids only grow: a reader resumes where it stopped, as /metrics does).
 */
export function readAudit(
  db: Db,
  o: { project?: string; branch?: string; since?: string; afterId?: number; limit?: number } = {},
): AuditEntry[] {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (o.project !== undefined) {
    where.push("project = ?");
    params.push(o.project);
  }
  if (o.branch !== undefined) {
    where.push("branch = ?");
    params.push(o.branch);
  }
  if (o.since !== undefined) {
    where.push("at >= ?");
    params.push(o.since);
  }
  if (o.afterId !== undefined) {
    where.push("id > ?");
    params.push(o.afterId);
  }
  const filter = where.length > 0 ? `WHERE ${where.join(" AND ")}` : "";
  // The newest `limit` lines, shown oldest first.
  const rows = db
    .prepare(`SELECT * FROM (SELECT * FROM audit ${filter} ORDER BY id DESC LIMIT ?) ORDER BY id`)
    .all(...params, o.limit ?? -1) as AuditRow[];
  return rows.map((r) => ({
    id: r.id,
    at: r.at,
    actor:
      r.actor_kind === null
        ? null
        : { kind: r.actor_kind, name: r.actor_name ?? "", client: r.actor_client },
    action: r.action,
    project: r.project,
    branch: r.branch,
    args: JSON.parse(r.details) as Record<string, unknown>,
    result: r.result,
    durationMs: r.duration_ms,
  }));
}
