import { findBranch, listBranches } from "../control/branches.ts";
import { findProject } from "../control/projects.ts";
import { getSetting } from "../control/settings.ts";
import { BoughError } from "../core/errors.ts";
import { validateName } from "../core/names.ts";
import type { Branch, Project } from "../core/types.ts";
import type { Ctx } from "./context.ts";

export function requireProject(ctx: Ctx, name: string): Project {
  validateName("project", name);
  const project = findProject(ctx, name);
  if (!project) {
    throw new BoughError(
      "PROJECT_NOT_FOUND",
      `project "${name}" does not exist`,
      "run `bough project list` to see projects, or `bough init` to create the default one",
    );
  }
  return project;
}

export function requireBranch(ctx: Ctx, project: Project, name: string): Branch {
  validateName("branch", name);
  const branch = findBranch(ctx.db, project.id, name);
  if (!branch) {
    throw new BoughError(
      "BRANCH_NOT_FOUND",
      `branch "${name}" does not exist in project "${project.name}"`,
      "run `bough branch list` to see branches",
    );
  }
  return branch;
}

export const currentKey = (project: Project) => `current:${project.name}`;

/** The branch a command acts on when its argument is left out: the switched-to one, else main. */
export function currentBranchName(ctx: Ctx, project: Project): string {
  const name = getSetting(ctx.db, currentKey(project));
  if (name && findBranch(ctx.db, project.id, name)) return name;
  return "main";
}

export function parentOf(ctx: Ctx, branch: Branch): Branch | null {
  if (branch.parentId === null) return null;
  return listBranches(ctx.db, branch.projectId).find((b) => b.id === branch.parentId) ?? null;
}

/**
 * A branch that has a parent, with its project and parent. The root branch (main) has no
 * parent and no T0, so merge, diff, reset and delete refuse it, saying `what` it cannot be.
 */
export function requireChildBranch(
  ctx: Ctx,
  o: { project: string; name: string; what: string; hint: string },
): { project: Project; branch: Branch; parent: Branch } {
  const project = requireProject(ctx, o.project);
  const branch = requireBranch(ctx, project, o.name);
  const parent = parentOf(ctx, branch);
  if (!parent) {
    throw new BoughError(
      "BRANCH_PROTECTED",
      `"${branch.name}" is the root branch of project "${project.name}": it cannot be ${o.what}`,
      o.hint,
    );
  }
  return { project, branch, parent };
}
