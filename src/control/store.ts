import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from "node:fs";
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

/** The secret holding a project's superuser password. */
export const projectPasswordSecret = (project: string) => `projects/${project}/postgres-password`;

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
    const rows = db.prepare("SELECT name, password FROM projects").all() as {
      name: string;
      password: string;
    }[];
    for (const r of rows) writeSecret(o.secretsDir, projectPasswordSecret(r.name), r.password);
    db.exec("ALTER TABLE projects DROP COLUMN password");
  },
];

// Files SQLite keeps beside the database: same contents, same permissions needed.
const SIDE_FILES = ["", "-wal", "-shm", "-journal"];

/**
 * Opens (creating if needed) the control-plane database and brings its schema up to date.
 * The database and its side files are owner-only (0600), older ones are tightened.
 */
export function openStore(o: StoreOptions): Db {
  mkdirSync(dirname(o.file), { recursive: true });
  // SQLite creates the -wal and -shm files with the database's mode: create that one 0600.
  if (!existsSync(o.file)) closeSync(openSync(o.file, "a", 0o600));
  for (const suffix of SIDE_FILES) {
    if (existsSync(`${o.file}${suffix}`)) chmodSync(`${o.file}${suffix}`, 0o600);
  }
  const db = new Database(o.file, { timeout: 10_000 });
  db.pragma("journal_mode = WAL");
  db.pragma("foreign_keys = ON");
  db.pragma("synchronous = NORMAL");
  // Deleted rows are zeroed, not left in free pages.
  db.pragma("secure_delete = ON");
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
  return db;
}

export const nowIso = () => new Date().toISOString();
