import type { Branch, BranchMode, BranchState } from "../core/types.ts";
import { type Db, freshId, nowIso } from "./store.ts";

interface BranchRow {
  id: number;
  project_id: number;
  name: string;
  parent_id: number | null;
  mode: string;
  state: string;
  port: number;
  want_running: number;
  created_at: string;
  forked_at: string | null;
  fork_lsn: string | null;
  last_error: string | null;
  masked: number;
  suspend_after_ms: number | null;
  suspended_at: string | null;
  protected: number;
  expires_at: string | null;
  dir_name: string | null;
}

const COLUMNS =
  "id, project_id, name, parent_id, mode, state, port, want_running, created_at, forked_at, fork_lsn, last_error, masked, suspend_after_ms, suspended_at, protected, expires_at, dir_name";

const toBranch = (r: BranchRow): Branch => ({
  id: r.id,
  projectId: r.project_id,
  name: r.name,
  parentId: r.parent_id,
  mode: r.mode as BranchMode,
  state: r.state as BranchState,
  port: r.port,
  wantRunning: r.want_running === 1,
  createdAt: r.created_at,
  forkedAt: r.forked_at,
  forkLsn: r.fork_lsn,
  lastError: r.last_error,
  masked: r.masked === 1,
  suspendAfterMs: r.suspend_after_ms,
  suspendedAt: r.suspended_at,
  protected: r.protected === 1,
  expiresAt: r.expires_at,
  dirName: r.dir_name ?? r.name,
});

export function findBranch(db: Db, projectId: number, name: string): Branch | null {
  const row = db
    .prepare(`SELECT ${COLUMNS} FROM branches WHERE project_id = ? AND name = ?`)
    .get(projectId, name) as BranchRow | undefined;
  return row ? toBranch(row) : null;
}

export function branchById(db: Db, id: number): Branch | null {
  const row = db.prepare(`SELECT ${COLUMNS} FROM branches WHERE id = ?`).get(id) as
    | BranchRow
    | undefined;
  return row ? toBranch(row) : null;
}

export function listBranches(db: Db, projectId: number): Branch[] {
  const rows = db
    .prepare(`SELECT ${COLUMNS} FROM branches WHERE project_id = ? ORDER BY id`)
    .all(projectId) as BranchRow[];
  return rows.map(toBranch);
}

/** The branch and its ancestors, nearest first. */
export function lineageOf(db: Db, branch: Branch): Branch[] {
  const out: Branch[] = [branch];
  let parentId = branch.parentId;
  while (parentId !== null) {
    const parent = branchById(db, parentId);
    if (!parent) break;
    out.push(parent);
    parentId = parent.parentId;
  }
  return out;
}

export function childrenOf(db: Db, branchId: number): Branch[] {
  const rows = db
    .prepare(`SELECT ${COLUMNS} FROM branches WHERE parent_id = ? ORDER BY id`)
    .all(branchId) as BranchRow[];
  return rows.map(toBranch);
}

/** Every port held by a branch of any project: reserved even while the branch is stopped. */
export function reservedPorts(db: Db): Set<number> {
  const rows = db.prepare("SELECT port FROM branches").all() as { port: number }[];
  return new Set(rows.map((r) => r.port));
}

export function insertBranch(
  db: Db,
  o: {
    projectId: number;
    name: string;
    parentId: number | null;
    mode: BranchMode;
    port: number;
    masked?: boolean;
    expiresAt?: string | null;
  },
): Branch {
  const id = freshId(db, "branches");
  db.prepare(
    "INSERT INTO branches (id, project_id, name, parent_id, mode, state, port, created_at, masked, protected, expires_at) VALUES (?, ?, ?, ?, ?, 'creating', ?, ?, ?, ?, ?)",
  ).run(
    id,
    o.projectId,
    o.name,
    o.parentId,
    o.mode,
    o.port,
    nowIso(),
    o.masked ? 1 : 0,
    // A root branch (main) is protected from the start.
    o.parentId === null ? 1 : 0,
    o.expiresAt ?? null,
  );
  const branch = branchById(db, id);
  if (!branch) throw new Error("branch row vanished after insert");
  return branch;
}

type BranchPatch = Partial<{
  state: BranchState;
  port: number;
  wantRunning: boolean;
  forkedAt: string | null;
  forkLsn: string | null;
  lastError: string | null;
  t0Base: string | null;
  mergeBase: string | null;
  t0Fingerprint: string | null;
  baseFingerprint: string | null;
  suspendAfterMs: number | null;
  suspendedAt: string | null;
  protected: boolean;
  expiresAt: string | null;
  name: string;
  dirName: string;
}>;

const PATCH_COLUMNS: Record<keyof BranchPatch, string> = {
  state: "state",
  port: "port",
  wantRunning: "want_running",
  forkedAt: "forked_at",
  forkLsn: "fork_lsn",
  lastError: "last_error",
  t0Base: "t0_base",
  mergeBase: "merge_base",
  t0Fingerprint: "t0_fingerprint",
  baseFingerprint: "base_fingerprint",
  suspendAfterMs: "suspend_after_ms",
  suspendedAt: "suspended_at",
  protected: "protected",
  expiresAt: "expires_at",
  name: "name",
  dirName: "dir_name",
};

export function updateBranch(db: Db, id: number, patch: BranchPatch): void {
  const keys = Object.keys(patch) as (keyof BranchPatch)[];
  if (keys.length === 0) return;
  const sets = keys.map((k) => `${PATCH_COLUMNS[k]} = @${k}`).join(", ");
  const params: Record<string, unknown> = { id };
  for (const k of keys) {
    const v = patch[k];
    params[k] = typeof v === "boolean" ? (v ? 1 : 0) : v;
  }
  db.prepare(`UPDATE branches SET ${sets} WHERE id = @id`).run(params);
}

export function deleteBranchRow(db: Db, id: number): void {
  db.prepare("DELETE FROM branches WHERE id = ?").run(id);
}

/** The merge base snapshot JSON (what the branch and parent last agreed on) and its catalog fingerprint JSON, or nulls. */
export function mergeBaseOf(
  db: Db,
  id: number,
): {
  t0Base: string | null;
  mergeBase: string | null;
  t0Fingerprint: string | null;
  baseFingerprint: string | null;
} {
  const row = db
    .prepare(
      "SELECT t0_base, merge_base, t0_fingerprint, base_fingerprint FROM branches WHERE id = ?",
    )
    .get(id) as
    | {
        t0_base: string | null;
        merge_base: string | null;
        t0_fingerprint: string | null;
        base_fingerprint: string | null;
      }
    | undefined;
  return {
    t0Base: row?.t0_base ?? null,
    mergeBase: row?.merge_base ?? null,
    t0Fingerprint: row?.t0_fingerprint ?? null,
    baseFingerprint: row?.base_fingerprint ?? null,
  };
}

/** Branches whose expiry time has passed (oldest expiry first), in every project. */
export function expiredBranches(db: Db, now: string): Branch[] {
  const rows = db
    .prepare(
      `SELECT ${COLUMNS} FROM branches WHERE expires_at IS NOT NULL AND expires_at <= ? ORDER BY expires_at, id`,
    )
    .all(now) as BranchRow[];
  return rows.map(toBranch);
}
