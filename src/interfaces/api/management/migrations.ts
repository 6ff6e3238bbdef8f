import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { migrateApplySql, migrateList } from "../../../branches/migrate.ts";
import type { ManagementDeps } from "./context.ts";
import * as S from "./schemas.ts";

const tags = ["migrations"];

/** `bough migrate list|apply`: the SQL travels in the body instead of a file. */
export function migrationRoutes({ ctxOf }: ManagementDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      "/projects/:project/branches/:branch/migrations",
      {
        schema: {
          tags,
          summary: "Migrations recorded on a branch, in order",
          params: S.BranchParams,
          response: { 200: S.Migrations, ...S.ERRORS },
        },
      },
      async (req) =>
        migrateList(ctxOf(req), { project: req.params.project, branch: req.params.branch }),
    );

    app.post(
      "/projects/:project/branches/:branch/migrations",
      {
        schema: {
          tags,
          summary: "Run a SQL migration on a branch (one transaction) and record it",
          params: S.BranchParams,
          body: S.ApplyMigrationBody,
          response: { 200: S.AppliedMigration, ...S.ERRORS },
        },
      },
      async (req) =>
        migrateApplySql(ctxOf(req), {
          project: req.params.project,
          branch: req.params.branch,
          name: req.body.name,
          sql: req.body.sql,
        }),
    );
  };
}
