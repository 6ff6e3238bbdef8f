import { randomBytes } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { initCluster, killCluster } from "../clusters/cluster.ts";
import { pickFreePort } from "../clusters/ports.ts";
import { removeTree } from "../clusters/remove-tree.ts";
import { insertBranch, listBranches, reservedPorts, updateBranch } from "../control/branches.ts";
import {
  advance,
  beginOperation,
  finishOperation,
  type Operation,
  supersedeOperations,
} from "../control/journal.ts";
import {
  deleteProjectRow,
  findProject,
  insertProject,
  listProjects,
  projectById,
  removeProjectSecrets,
} from "../control/projects.ts";
import { deleteSetting } from "../control/settings.ts";
import { BoughError } from "../core/errors.ts";
import { faultPoint } from "../core/fault.ts";
import { validateName } from "../core/names.ts";
import type { DirRef } from "../core/paths.ts";
import type { Project } from "../core/types.ts";
import { ensureBookkeeping } from "../merge/bookkeeping.ts";
import { ensurePlatformSchema } from "../platform/schema.ts";
import { audited } from "./audited.ts";
import { branchUrl, startBranch } from "./branch-cluster.ts";
import { branchOwner, dropBranchOwner, dropScratchOwner } from "./cluster-users.ts";
import type { Ctx } from "./context.ts";
import { exclusive, readOnly } from "./exclusive.ts";
import { ensureBranchKeys, projectJwtSecret } from "./keys.ts";
import { currentKey, requireProject } from "./lookup.ts";
import { takeBase } from "./pitr-bases.ts";
import { withClient } from "./sql.ts";

export const DEFAULT_PROJECT = "default";

/** Creates a project and its `main` branch: a fresh cluster, started, with bough's bookkeeping. */
function createProjectNow(ctx: Ctx, o: { name: string }): Promise<Project> {
  validateName("project", o.name);
  return exclusive(ctx, () => createProjectLocked(ctx, o.name));
}

/** `bough init`: the home and the default project, idempotently. */
function ensureDefaultNow(ctx: Ctx): Promise<{ project: Project; created: boolean }> {
  return exclusive(ctx, async () => {
    const existing = findProject(ctx, DEFAULT_PROJECT);
    if (existing) return { project: existing, created: false };
    return { project: await createProjectLocked(ctx, DEFAULT_PROJECT), created: true };
  });
}

async function createProjectLocked(ctx: Ctx, name: string): Promise<Project> {
  if (findProject(ctx, name)) {
    throw new BoughError(
      "PROJECT_EXISTS",
      `project "${name}" already exists`,
      "pick another name, or `bough project delete` it first",
    );
  }
  const port = await pickFreePort(reservedPorts(ctx.db));
  const { project, op } = ctx.db.transaction(() => {
    const project = insertProject(ctx, {
      name,
      password: randomBytes(18).toString("base64url"),
    });
    const main = insertBranch(ctx.db, {
      projectId: project.id,
      name: "main",
      parentId: null,
      mode: "full",
      port,
    });
    const op = beginOperation(ctx.db, {
      projectId: project.id,
      kind: "project-create",
      branchName: "main",
      args: { projectName: name, projectId: project.id, branchId: main.id },
    });
    return { project, op };
  })();
  try {
    ctx.progress(`initialising cluster for ${name}/main`);
    const main = listBranches(ctx.db, project.id)[0];
    const dataDir = ctx.paths.branchData(project, main);
    await initCluster(ctx.cluster, {
      dataDir,
      password: project.password,
      owner: await branchOwner(ctx, main.id),
    });
    faultPoint("project-create:after-init");
    advance(ctx.db, op, "initialised");
    const started = await startBranch(ctx, project, main);
    await withClient(branchUrl(project, started), async (c) => {
      await ensureBookkeeping(c);
      // Roles and platform schemas live in main; every branch inherits them by cloning.
      await ensurePlatformSchema(c);
    });
    // main's first base: its history (branch create --at) starts here.
    await takeBase(ctx, project, started);
    await projectJwtSecret(ctx, project);
    await ensureBranchKeys(ctx, project, started);
    faultPoint("project-create:before-ready");
    ctx.db.transaction(() => {
      updateBranch(ctx.db, main.id, { state: "ready" });
      finishOperation(ctx.db, op, "done");
    })();
  } catch (err) {
    await rollbackProjectCreate(ctx, op);
    throw err;
  }
  return project;
}

const projectNamed = (o: { name: string }) => ({ project: o.name, branch: null });
export const createProject = audited("project.create", createProjectNow, { target: projectNamed });
export const deleteProject = audited("project.delete", deleteProjectNow, { target: projectNamed });
export const ensureDefaultProject = (ctx: Ctx) => ensureDefault(ctx, {});
const ensureDefault = audited("init", ensureDefaultNow, {
  target: () => ({ project: DEFAULT_PROJECT, branch: null }),
});

/** The project an operation acts on, as named on disk (its directory is keyed by id). */
const projectRef = (op: Operation): DirRef => ({
  id: (op.args.projectId as number | undefined) ?? op.projectId ?? -1,
  name: op.args.projectName as string,
});

export async function rollbackProjectCreate(ctx: Ctx, op: Operation): Promise<void> {
  const project = projectRef(op);
  const main = { id: op.args.branchId as number, name: "main" };
  await killCluster(ctx.paths.branchData(project, main));
  await removeTree(ctx.paths.projectDir(project), ctx.cluster.runAs);
  await dropBranchOwner(ctx, main.id);
  ctx.db.transaction(() => {
    if (op.projectId !== null) {
      ctx.db.prepare("DELETE FROM branches WHERE project_id = ?").run(op.projectId);
      deleteProjectRow(ctx, op.projectId);
    }
    finishOperation(ctx.db, op, "rolled-back");
  })();
  removeProjectSecrets(ctx, project);
}

export function listAllProjects(ctx: Ctx): Promise<Project[]> {
  return readOnly(ctx, () => listProjects(ctx));
}

/** Deletes a project: every branch's cluster stopped and removed, then its rows. */
function deleteProjectNow(ctx: Ctx, o: { name: string }): Promise<void> {
  return exclusive(ctx, async () => {
    const project = requireProject(ctx, o.name);
    const op = beginOperation(ctx.db, {
      projectId: project.id,
      kind: "project-delete",
      branchName: null,
      args: { projectName: project.name, projectId: project.id },
    });
    await finishProjectDelete(ctx, op);
  });
}

export async function finishProjectDelete(ctx: Ctx, op: Operation): Promise<void> {
  const ref = projectRef(op);
  const project = projectById(ctx, ref.id);
  if (project) {
    for (const b of listBranches(ctx.db, project.id)) {
      await killCluster(ctx.paths.branchData(project, b));
    }
  }
  faultPoint("project-delete:after-stop");
  const users = projectUsers(ctx, ref, project);
  await removeTree(ctx.paths.projectDir(ref), ctx.cluster.runAs);
  for (const drop of users) await drop();
  faultPoint("project-delete:after-remove");
  ctx.db.transaction(() => {
    // An interrupted create (or branch operation) of this project has nothing left to do.
    supersedeOperations(ctx.db, { by: op, projectId: ref.id });
    if (project) {
      // Children first: branches reference their parents.
      ctx.db.prepare("UPDATE branches SET parent_id = NULL WHERE project_id = ?").run(project.id);
      ctx.db.prepare("DELETE FROM branches WHERE project_id = ?").run(project.id);
      ctx.db
        .prepare("UPDATE operations SET project_id = NULL WHERE project_id = ?")
        .run(project.id);
      deleteSetting(ctx.db, currentKey(project));
      deleteProjectRow(ctx, project.id);
    }
    finishOperation(ctx.db, op, "done");
  })();
  removeProjectSecrets(ctx, ref);
}

/**
 * The OS users of a project being deleted, read before its files go: each branch's (by
 * row, and by directory, `<name>-<id>`, for rows an earlier attempt removed) and each
 * scratch clone's left by a killed operation (`<purpose>-<op id>`).
 */
function projectUsers(ctx: Ctx, ref: DirRef, project: Project | null): (() => Promise<void>)[] {
  const idsIn = (dir: string) =>
    existsSync(dir)
      ? readdirSync(dir)
          .flatMap((n) => /^.+-(\d+)$/.exec(n)?.[1] ?? [])
          .map(Number)
      : [];
  const branchIds = new Set([
    ...(project ? listBranches(ctx.db, project.id).map((b) => b.id) : []),
    ...idsIn(join(ctx.paths.projectDir(ref), "branches")),
  ]);
  return [
    ...[...branchIds].map((id) => () => dropBranchOwner(ctx, id)),
    ...idsIn(ctx.paths.scratchDir(ref)).map((id) => () => dropScratchOwner(ctx, id)),
  ];
}
