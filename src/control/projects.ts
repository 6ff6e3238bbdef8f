import type { Project } from "../core/types.ts";
import { type Db, freshId, nowIso } from "./store.ts";

interface ProjectRow {
  id: number;
  name: string;
  password: string;
  created_at: string;
}

const toProject = (r: ProjectRow): Project => ({
  id: r.id,
  name: r.name,
  password: r.password,
  createdAt: r.created_at,
});

export function findProject(db: Db, name: string): Project | null {
  const row = db.prepare("SELECT * FROM projects WHERE name = ?").get(name) as
    | ProjectRow
    | undefined;
  return row ? toProject(row) : null;
}

export function listProjects(db: Db): Project[] {
  return (db.prepare("SELECT * FROM projects ORDER BY name").all() as ProjectRow[]).map(toProject);
}

export function insertProject(db: Db, o: { name: string; password: string }): Project {
  const id = freshId(db, "projects");
  db.prepare("INSERT INTO projects (id, name, password, created_at) VALUES (?, ?, ?, ?)").run(
    id,
    o.name,
    o.password,
    nowIso(),
  );
  return {
    id,
    name: o.name,
    password: o.password,
    createdAt: nowIso(),
  };
}

export function deleteProjectRow(db: Db, id: number): void {
  db.prepare("DELETE FROM projects WHERE id = ?").run(id);
}

export function projectById(db: Db, id: number): Project | null {
  const row = db.prepare("SELECT * FROM projects WHERE id = ?").get(id) as ProjectRow | undefined;
  return row ? toProject(row) : null;
}
