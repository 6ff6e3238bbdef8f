import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { listBranchInfos } from "../../../branches/list.ts";
import { requireProject } from "../../../branches/lookup.ts";
import { createProject, deleteProject, listAllProjects } from "../../../branches/projects.ts";
import type { ManagementDeps } from "./context.ts";
import * as S from "./schemas.ts";

const tags = ["projects"];
const project = (p: { name: string; createdAt: string }) => ({
  name: p.name,
  createdAt: p.createdAt,
});

/** `bough project create|list|delete` and a project with its branches. */
export function projectRoutes({ ctxOf, ops }: ManagementDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      "/projects",
      {
        schema: {
          tags,
          summary: "List projects",
          response: { 200: S.Projects, ...S.ERRORS },
        },
      },
      async (req) => (await listAllProjects(ctxOf(req))).map(project),
    );

    app.post(
      "/projects",
      {
        schema: {
          tags,
          summary: "Create a project with its main branch",
          body: S.CreateProjectBody,
          querystring: S.WaitQuery,
          response: { 201: S.Project, 202: S.OperationInfo, ...S.ERRORS },
        },
      },
      async (req, reply) => {
        const ctx = ctxOf(req);
        return ops.run(reply, {
          kind: "project.create",
          wait: req.query.wait,
          okStatus: 201,
          work: async () => project(await createProject(ctx, { name: req.body.name })),
        });
      },
    );

    app.get(
      "/projects/:project",
      {
        schema: {
          tags,
          summary: "A project and its branches",
          params: S.ProjectParams,
          response: { 200: S.ProjectDetail, ...S.ERRORS },
        },
      },
      async (req) => {
        const ctx = ctxOf(req);
        const p = requireProject(ctx, req.params.project);
        return { ...project(p), branches: await listBranchInfos(ctx, { project: p.name }) };
      },
    );

    app.delete(
      "/projects/:project",
      {
        schema: {
          tags,
          summary: "Delete a project and every branch in it",
          params: S.ProjectParams,
          response: { 200: S.DeletedProject, ...S.ERRORS },
        },
      },
      async (req) => {
        await deleteProject(ctxOf(req), { name: req.params.project });
        return { deleted: req.params.project };
      },
    );
  };
}
