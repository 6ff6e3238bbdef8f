import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import {
  deleteFunctionOp,
  deployFunction,
  functionLogs,
  listFunctionsOp,
} from "../../../branches/functions.ts";
import type { ManagementDeps } from "./context.ts";
import * as P from "./platform-schemas.ts";
import * as S from "./schemas.ts";

const tags = ["functions"];

/** `bough functions list|deploy|delete|logs`: the sources travel in the body instead of files. */
export function functionRoutes({ ctxOf }: ManagementDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      "/projects/:project/branches/:branch/functions",
      {
        schema: {
          tags,
          summary: "Edge functions deployed on a branch",
          params: S.BranchParams,
          response: { 200: P.FunctionList, ...S.ERRORS },
        },
      },
      async (req) => listFunctionsOp(ctxOf(req), req.params),
    );

    app.put(
      "/projects/:project/branches/:branch/functions/:name",
      {
        bodyLimit: P.DEPLOY_BODY_LIMIT,
        schema: {
          tags,
          summary: "Deploy a function (replaces the code of the same name)",
          description:
            "Refused (400) before anything is stored when Deno cannot parse the code or a local " +
            "import is missing. Served at `/p/{project}/b/{branch}/functions/v1/{name}`.",
          params: P.FunctionParams,
          body: P.DeployFunctionBody,
          response: { 200: P.DeployedFunction, ...S.ERRORS },
        },
      },
      async (req) =>
        deployFunction(ctxOf(req), {
          ...req.params,
          files: req.body.files,
          entrypoint: req.body.entrypoint,
          verifyJwt: req.body.verifyJwt,
        }),
    );

    app.delete(
      "/projects/:project/branches/:branch/functions/:name",
      {
        schema: {
          tags,
          summary: "Remove a function from a branch",
          params: P.FunctionParams,
          response: { 200: P.DeletedFunction, ...S.ERRORS },
        },
      },
      async (req) => deleteFunctionOp(ctxOf(req), req.params),
    );

    app.get(
      "/projects/:project/branches/:branch/functions/:name/invocations",
      {
        schema: {
          tags,
          summary:
            "A function's last invocations (status, outcome, duration, output), newest first",
          params: P.FunctionParams,
          querystring: P.LimitQuery,
          response: { 200: P.Invocations, ...S.ERRORS },
        },
      },
      async (req) => functionLogs(ctxOf(req), { ...req.params, limit: req.query.limit }),
    );
  };
}
