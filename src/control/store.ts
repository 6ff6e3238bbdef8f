import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";

export type Db = Database.Database;

// Schema migrations of the control plane, applied in order; never edit a released one.
const MIGRATIONS: string[] = [
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
  // Catalog fingerprints (src/merge/fingerprint) at T0 and at the merge base, beside the snapshots.
  `ALTER TABLE branches ADD COLUMN t0_fingerprint TEXT;
   ALTER TABLE branches ADD COLUMN base_fingerprint TEXT;`,
];

/** Opens (creating if needed) the control-plane database and brings its schema up to date. */
export function openStore(file: string): Db {
  mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file, { timeout: 10_000 });
  db.pragma("journal_mode = WAL");
  db.pragma("foreign_keys = ON");
  db.pragma("synchronous = NORMAL");
  const version = db.pragma("user_version", { simple: true }) as number;
  for (let i = version; i < MIGRATIONS.length; i++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[i]);
      db.pragma(`user_version = ${i + 1}`);
    }).immediate();
  }
  return db;
}

export const nowIso = () => new Date().toISOString();
