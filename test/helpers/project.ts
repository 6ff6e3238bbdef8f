import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { branchUrl } from "../../src/branches/branch-cluster.ts";
import { type Ctx, openContext } from "../../src/branches/context.ts";
import { createBranch } from "../../src/branches/create.ts";
import { requireBranch, requireProject } from "../../src/branches/lookup.ts";
import { createProject, deleteProject } from "../../src/branches/projects.ts";

/** An in-process bough home for library-level tests: real clusters, no CLI start-up cost. */
export interface TestHome {
  ctx: Ctx;
  home: string;
  /** Creates a project (own main cluster); returns its main URL. */
  project(name: string): Promise<string>;
  /** Creates a branch and returns its URL. */
  branch(project: string, name: string, from?: string): Promise<string>;
  url(project: string, branch: string): string;
  /** A branch's directories on disk (keyed by id, so looked up). */
  dirs(project: string, branch: string): { dir: string; data: string; t0: string };
  dispose(): Promise<void>;
}

export async function testHome(): Promise<TestHome> {
  const home = await mkdtemp(join(tmpdir(), "bough-lib-"));
  const ctx = await openContext({ home });
  const projects: string[] = [];
  const url = (project: string, branch: string) => {
    const p = requireProject(ctx, project);
    return branchUrl(p, requireBranch(ctx, p, branch));
  };
  return {
    ctx,
    home,
    url,
    dirs(project, branch) {
      const p = requireProject(ctx, project);
      const b = requireBranch(ctx, p, branch);
      return {
        dir: ctx.paths.branchDir(p, b),
        data: ctx.paths.branchData(p, b),
        t0: ctx.paths.branchT0(p, b),
      };
    },
    async project(name) {
      await createProject(ctx, { name });
      projects.push(name);
      return url(name, "main");
    },
    async branch(project, name, from) {
      const r = await createBranch(ctx, { project, name, from, switchTo: false });
      return r.branch.connectionString;
    },
    async dispose() {
      for (const p of projects) await deleteProject(ctx, { name: p }).catch(() => {});
      ctx.close();
      await rm(home, { recursive: true, force: true });
    },
  };
}
