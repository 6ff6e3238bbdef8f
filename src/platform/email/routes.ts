import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { FastifyRequest } from "fastify";
import { Type } from "typebox";
import { BoughError } from "../../core/errors.ts";
import type { PlatformRequest } from "../request.ts";
import { listOutbox } from "./outbox.ts";

/**
 * `/email/v1` of one branch: its outbox, for the branch's secret key only (mail holds
 * sign-in links: the publishable key and user tokens are refused).
 */
export function emailRoutes(o: {
  platformOf: (req: FastifyRequest) => Promise<PlatformRequest>;
}): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      "/outbox",
      {
        schema: {
          querystring: Type.Object({
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
          }),
        },
      },
      async (req) => {
        const pr = await o.platformOf(req);
        if (pr.identity.role !== "service_role") {
          throw new BoughError(
            "UNAUTHORIZED",
            "the outbox needs the branch's secret key",
            "send the secret key of `bough branch keys` as apikey",
          );
        }
        return pr.db.asService((c) =>
          listOutbox(c, { branchId: pr.branch.id, limit: req.query.limit }),
        );
      },
    );
  };
}
