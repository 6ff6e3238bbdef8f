import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { status } from "../../../branches/status.ts";
import { BoughError } from "../../../core/errors.ts";
import type { ManagementDeps } from "./context.ts";
import * as S from "./schemas.ts";

/** `bough status` and the operations long requests answer with. */
export function systemRoutes({ ctxOf, ops }: ManagementDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      "/status",
      {
        schema: {
          tags: ["system"],
          summary: "Data directory, clone driver, Postgres version, clusters, server URL",
          response: { 200: S.Status, ...S.ERRORS },
        },
      },
      async (req) => status(ctxOf(req)),
    );

    app.get(
      "/operations/:id",
      {
        schema: {
          tags: ["system"],
          summary: "A long request's operation: running, succeeded (result) or failed (error)",
          params: S.OperationParams,
          response: { 200: S.OperationInfo, ...S.ERRORS },
        },
      },
      async (req) => {
        const op = ops.get(req.params.id);
        if (!op) {
          throw new BoughError(
            "OPERATION_NOT_FOUND",
            `operation "${req.params.id}" does not exist`,
            "operations live as long as the server that runs them; check the branch itself",
          );
        }
        return op;
      },
    );
  };
}
