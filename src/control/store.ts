import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
} from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { writeSecret } from "./secrets.ts";

export type Db = Database.Database;

export interface StoreOptions {
  file: string;
  /** Where secrets moved out of the database go (see secrets.ts). */
  secretsDir: string;
}

/** A step of the schema: SQL, or code where data must leave the database. */
type Migration = string | ((db: Db, o: StoreOptions) => void);

/** Where a project's secrets live: keyed by id too, like its directory (one incarnation). */
export const projectSecrets = (p: { id: number; name: string }) => `projects/${p.name}-${p.id}`;

/** The secret holding a project's superuser password. */
export const projectPasswordSecret = (p: { id: number; name: string }) =>
  `${projectSecrets(p)}/postgres-password`;

// Schema migrations of the control plane, applied in order; never edit a released one.
const MIGRATIONS: Migration[] = [
  `CREATE TABLE projects (
     id INTEGER PRIMARY KEY,
     name TEXT NOT NULL UNIQUE,
     password TEXT NOT NULL,
     created_at TEXT NOT NULL
   );
   CREATE TABLE branches (
     id INTEGER PRIMARY KEY,
     project_id INTEGER NOT NULL REFERENCES projects(id),
     name TEXT NOT NULL,
     parent_id INTEGER REFERENCES branches(id),
     mode TEXT NOT NULL,
     state TEXT NOT NULL,
     port INTEGER NOT NULL UNIQUE,
     want_running INTEGER NOT NULL DEFAULT 0,
     created_at TEXT NOT NULL,
     forked_at TEXT,
     fork_lsn TEXT,
     last_error TEXT,
     t0_base TEXT,
     merge_base TEXT,
     UNIQUE (project_id, name)
   );
   CREATE TABLE operations (
     id INTEGER PRIMARY KEY,
     project_id INTEGER,
     kind TEXT NOT NULL,
     branch_name TEXT,
     step TEXT NOT NULL,
     status TEXT NOT NULL,
     pid INTEGER NOT NULL,
     args TEXT NOT NULL DEFAULT '{}',
     started_at TEXT NOT NULL,
     finished_at TEXT,
     error TEXT
   );
   CREATE TABLE locks (
     scope TEXT PRIMARY KEY,
     pid INTEGER NOT NULL,
     acquired_at TEXT NOT NULL
   );
   CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE audit (
     id INTEGER PRIMARY KEY,
     at TEXT NOT NULL,
     project TEXT,
     branch TEXT,
     action TEXT NOT NULL,
     details TEXT NOT NULL DEFAULT '{}'
   );`,
  // 2: superuser passwords move to owner-only secret files; the column goes.
  (db, o) => {
    const rows = db.prepare("SELECT id, name, password FROM projects").all() as {
      id: number;
      name: string;
      password: string;
    }[];
    for (const r of rows) writeSecret(o.secretsDir, projectPasswordSecret(r), r.password);
    db.exec("ALTER TABLE projects DROP COLUMN password");
  },
  // Holders are a pid plus that process' start time and the boot id (see holder.ts);
  // ids of projects and branches are never reused (their directories are keyed by id).
  `ALTER TABLE operations ADD COLUMN pid_start INTEGER;
   ALTER TABLE operations ADD COLUMN boot_id TEXT;
   ALTER TABLE locks ADD COLUMN pid_start INTEGER;
   ALTER TABLE locks ADD COLUMN boot_id TEXT;
   CREATE TABLE id_sequences (name TEXT PRIMARY KEY, last INTEGER NOT NULL);
   INSERT INTO id_sequences SELECT 'projects', coalesce(max(id), 0) FROM projects;
   INSERT INTO id_sequences SELECT 'branches', coalesce(max(id), 0) FROM branches;`,
  // A recovery that fails is recorded and retried with backoff instead of blocking bough.
  `ALTER TABLE operations ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE operations ADD COLUMN next_retry_at TEXT;`,
  // Catalog fingerprints (src/merge/fingerprint) at T0 and at the merge base, beside the snapshots.
  `ALTER TABLE branches ADD COLUMN t0_fingerprint TEXT;
   ALTER TABLE branches ADD COLUMN base_fingerprint TEXT;`,
  // Secrets copy policy (src/platform/secrets): set per project, and recorded on each branch as
  // it is inserted (a trigger, so every path that creates a branch records it), so a later
  // change of the project's policy leaves existing branches as they were.
  `ALTER TABLE projects ADD COLUMN secrets_policy TEXT NOT NULL DEFAULT 'copy';
   ALTER TABLE branches ADD COLUMN secrets_policy TEXT;
   UPDATE branches SET secrets_policy = 'copy';
   CREATE TRIGGER branches_secrets_policy AFTER INSERT ON branches BEGIN
     UPDATE branches SET secrets_policy = (SELECT secrets_policy FROM projects WHERE id = NEW.project_id)
      WHERE id = NEW.id;
   END;`,
  // Admin keys of the management API (admin-keys.ts): only a sha256 of each key is kept.
  `CREATE TABLE admin_keys (
     id INTEGER PRIMARY KEY,
     name TEXT NOT NULL UNIQUE,
     hash TEXT NOT NULL,
     created_at TEXT NOT NULL,
     last_used_at TEXT
   );`,
  // The audit log says who acted (CLI user, admin key, MCP client), the outcome and how
  // long it took; it is append-only, enforced by the database itself.
  `ALTER TABLE audit ADD COLUMN actor_kind TEXT;
   ALTER TABLE audit ADD COLUMN actor_name TEXT;
   ALTER TABLE audit ADD COLUMN actor_client TEXT;
   ALTER TABLE audit ADD COLUMN result TEXT NOT NULL DEFAULT 'ok';
   ALTER TABLE audit ADD COLUMN duration_ms INTEGER;
   CREATE INDEX audit_at ON audit (at);
   CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
     BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
   CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
     BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;`,
  // Conflict resolutions recorded on a branch (`bough branch resolve`), each bound to the
  // conflict as it was (digest), used by the branch's next merge.
  `CREATE TABLE merge_resolutions (
     branch_id INTEGER NOT NULL REFERENCES branches(id) ON DELETE CASCADE,
     conflict_id TEXT NOT NULL,
     take TEXT NOT NULL CHECK (take IN ('branch', 'parent')),
     digest TEXT NOT NULL,
     recorded_at TEXT NOT NULL,
     PRIMARY KEY (branch_id, conflict_id)
   );`,
  // Masked branches (branch create --mask): their user data was anonymized before T0.
  "ALTER TABLE branches ADD COLUMN masked INTEGER NOT NULL DEFAULT 0;",
  // Scale to zero: a branch's idle timeout (NULL: the default, 0: never) and when the
  // proxy last stopped it for idleness (cleared when it starts), shown as `idle`.
  `ALTER TABLE branches ADD COLUMN suspend_after_ms INTEGER;
   ALTER TABLE branches ADD COLUMN suspended_at TEXT;`,
  // Protection and expiry (src/branches/protect.ts, expiry.ts); every root branch (main) starts
  // protected. dir_name: the name its directories were made under, so a rename moves nothing.
  `ALTER TABLE branches ADD COLUMN protected INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE branches ADD COLUMN expires_at TEXT;
   ALTER TABLE branches ADD COLUMN dir_name TEXT;
   UPDATE branches SET protected = 1 WHERE parent_id IS NULL;`,
  // Applied merges, kept for undo (src/branches/merge-undo.ts): the target's WAL position
  // just before the merge committed (the pre-merge state is recovered from its history),
  // the state the merge left, and the owner's merge base before it.
  `CREATE TABLE merges (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
     kind TEXT NOT NULL,
     owner_id INTEGER NOT NULL,
     owner_name TEXT NOT NULL,
     source_name TEXT NOT NULL,
     target_id INTEGER NOT NULL REFERENCES branches(id) ON DELETE CASCADE,
     operation_id INTEGER NOT NULL,
     applied_at TEXT NOT NULL,
     pre_lsn TEXT NOT NULL,
     post_snapshot TEXT NOT NULL,
     post_fingerprint TEXT,
     statements TEXT NOT NULL,
     migrations TEXT NOT NULL,
     base_moved INTEGER NOT NULL,
     landed_base_hash TEXT,
     prev_merge_base TEXT,
     prev_base_fingerprint TEXT,
     undone_at TEXT,
     undo_operation_id INTEGER
   );
   CREATE INDEX merges_target ON merges (target_id, id);`,
];

// Files SQLite keeps beside the database: same contents, same permissions needed.
const SIDE_FILES = ["", "-wal", "-shm", "-journal"];

/**
 * Opens (creating if needed) the control-plane database and brings its schema up to
 * date. The database and its side files are owner-only (0600), older ones are tightened.
 * On a full disk SQLite cannot even open a WAL database (it must create its -wal and
 * -shm files): then a read-only snapshot of the file is opened instead, so `list`,
 * `show`, `status` and `url` still work, and every write fails with SQLITE_READONLY.
 */
export function openStore(o: StoreOptions): Db {
  mkdirSync(dirname(o.file), { recursive: true });
  // SQLite creates the -wal and -shm files with the database's mode: create that one 0600.
  if (!existsSync(o.file)) closeSync(openSync(o.file, "a", 0o600));
  for (const suffix of SIDE_FILES) {
    if (existsSync(`${o.file}${suffix}`)) chmodSync(`${o.file}${suffix}`, 0o600);
  }
  let db: Db | undefined;
  try {
    db = new Database(o.file, { timeout: 10_000 });
    db.pragma("journal_mode = WAL");
    db.pragma("foreign_keys = ON");
    // FULL: in WAL mode NORMAL may lose the last commits on power loss, and a journal
    // record bough already acted on (a step reached, a cluster removed) must never vanish.
    db.pragma("synchronous = FULL");
    // Deleted rows are zeroed, not left in free pages.
    db.pragma("secure_delete = ON");
    migrate(db, o);
    return db;
  } catch (err) {
    db?.close();
    const snapshot = readOnlySnapshot(o.file, err);
    if (!snapshot) throw err;
    return snapshot;
  }
}

function migrate(db: Db, o: StoreOptions): void {
  const version = db.pragma("user_version", { simple: true }) as number;
  let movedData = false;
  for (let i = version; i < MIGRATIONS.length; i++) {
    const step = MIGRATIONS[i];
    movedData ||= typeof step !== "string";
    db.transaction(() => {
      if (typeof step === "string") db.exec(step);
      else step(db, o);
      db.pragma(`user_version = ${i + 1}`);
    }).immediate();
  }
  // Moving secrets out leaves their old bytes in free pages and the WAL until rewritten.
  if (movedData) {
    db.exec("VACUUM");
    db.pragma("wal_checkpoint(TRUNCATE)");
  }
}

const NO_SPACE = new Set(["SQLITE_CANTOPEN", "SQLITE_FULL", "SQLITE_IOERR_WRITE", "SQLITE_IOERR"]);

/**
 * The database file alone is complete when no -wal file holds commits (the last
 * connection checkpointed and removed it): its bytes, marked as a rollback-journal
 * database (header bytes 18-19 = 1) so the in-memory copy needs no WAL, opened read-only.
 */
function readOnlySnapshot(file: string, err: unknown): Db | null {
  if (!NO_SPACE.has((err as { code?: string }).code ?? "")) return null;
  if (!existsSync(file) || (existsSync(`${file}-wal`) && statSync(`${file}-wal`).size > 0)) {
    return null;
  }
  const bytes = readFileSync(file);
  if (bytes.length < 100) return null;
  bytes[18] = 1;
  bytes[19] = 1;
  const db = new Database(bytes, { readonly: true });
  if (db.pragma("user_version", { simple: true }) !== MIGRATIONS.length) {
    db.close();
    return null;
  }
  return db;
}

/**
 * A row id never handed out before in this home. SQLite gives a new row the largest id
 * plus one, so deleting the newest branch and creating another would reuse its id, and
 * with it the directory an interrupted operation of the old one may still clean up.
 */
export function freshId(db: Db, sequence: "projects" | "branches"): number {
  const row = db
    .prepare("UPDATE id_sequences SET last = last + 1 WHERE name = ? RETURNING last")
    .get(sequence) as { last: number };
  return row.last;
}

export const nowIso = () => new Date().toISOString();
