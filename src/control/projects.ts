import { BoughError } from "../core/errors.ts";
import type { Project } from "../core/types.ts";
import { readSecret, removeSecrets, writeSecret } from "./secrets.ts";
import { type Db, freshId, nowIso, projectPasswordSecret, projectSecrets } from "./store.ts";

/** The control plane: its database, and where the secrets it does not hold live. */
export interface ControlPlane {
  db: Db;
  paths: { secretsDir: string };
}

interface ProjectRow {
  id: number;
  name: string;
  created_at: string;
}

function toProject(c: ControlPlane, r: ProjectRow): Project {
  const project = { id: r.id, name: r.name, createdAt: r.created_at } as Project;
  // Read when first needed, not here: a lost password file must still let `project list`,
  // `branch list` and `delete` run; only what connects to the clusters fails.
  let password: string | undefined;
  Object.defineProperty(project, "password", {
    enumerable: false,
    get() {
      password ??= readSecret(c.paths.secretsDir, projectPasswordSecret(r)) ?? undefined;
      if (password === undefined) {
        throw new BoughError(
          "ENVIRONMENT",
          `the superuser password of project "${r.name}" is missing from ${c.paths.secretsDir}`,
          "restore the secrets directory of this home from a backup, or delete the project",
        );
      }
      return password;
    },
  });
  return project;
}

export function findProject(c: ControlPlane, name: string): Project | null {
  const row = c.db.prepare("SELECT * FROM projects WHERE name = ?").get(name) as
    | ProjectRow
    | undefined;
  return row ? toProject(c, row) : null;
}

export function listProjects(c: ControlPlane): Project[] {
  const rows = c.db.prepare("SELECT * FROM projects ORDER BY name").all() as ProjectRow[];
  return rows.map((r) => toProject(c, r));
}

/** Inserts the row; the password is written to its secret file first, so a row always has one. */
export function insertProject(c: ControlPlane, o: { name: string; password: string }): Project {
  const id = freshId(c.db, "projects");
  writeSecret(c.paths.secretsDir, projectPasswordSecret({ id, name: o.name }), o.password);
  const createdAt = nowIso();
  c.db
    .prepare("INSERT INTO projects (id, name, created_at) VALUES (?, ?, ?)")
    .run(id, o.name, createdAt);
  return { id, name: o.name, password: o.password, createdAt };
}

export function deleteProjectRow(c: ControlPlane, id: number): void {
  c.db.prepare("DELETE FROM projects WHERE id = ?").run(id);
}

/** Removes a project's secrets: after its row is gone (a crash in between leaves only a file). */
export function removeProjectSecrets(c: ControlPlane, project: { id: number; name: string }): void {
  removeSecrets(c.paths.secretsDir, projectSecrets(project));
}

export function projectById(c: ControlPlane, id: number): Project | null {
  const row = c.db.prepare("SELECT * FROM projects WHERE id = ?").get(id) as ProjectRow | undefined;
  return row ? toProject(c, row) : null;
}
