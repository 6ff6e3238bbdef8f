import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Ctx } from "../../../branches/context.ts";
import { verifyAdminKey } from "../../../control/admin-keys.ts";
import { BoughError } from "../../../core/errors.ts";
import { branchConfigRoutes } from "./branch-config.ts";
import { branchRoutes } from "./branches.ts";
import type { ManagementDeps } from "./context.ts";
import { emailRoutes } from "./email.ts";
import { managementError, sendError } from "./errors.ts";
import { functionRoutes } from "./functions.ts";
import { historyRoutes } from "./history.ts";
import { lifecycleRoutes } from "./lifecycle.ts";
import { mergeRoutes } from "./merge.ts";
import { migrationRoutes } from "./migrations.ts";
import { operations } from "./operations.ts";
import { projectRoutes } from "./projects.ts";
import { scheduleRoutes } from "./schedules.ts";
import { secretRoutes } from "./secrets.ts";
import { systemRoutes } from "./system.ts";

export const MANAGEMENT_PREFIX = "/v1";

/**
 * The management API: `/v1/...` behind `Authorization: Bearer <admin key>`, each route a
 * thin layer over the src/branches call the CLI makes; `/openapi.json` (OpenAPI 3.1,
 * generated from the routes' TypeBox schemas) and `/docs` (Swagger UI) are public.
 * Register it before any other routes: the document is collected as routes are added.
 */
export function registerManagement(app: FastifyInstance, ctx: Ctx): void {
  app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "bough management API",
        version: "1",
        description:
          "Projects and branches of a bough home: create (also from a point in time, masked), " +
          "diff, merge, reset, restore, protect, expire, delete; masking rules and table merge " +
          "policies; each " +
          "branch's functions, schedules, secrets and email. " +
          "Authenticate with `Authorization: Bearer <admin key>` (`bough admin-key create NAME`).",
      },
      components: {
        securitySchemes: {
          adminKey: { type: "http", scheme: "bearer", bearerFormat: "bough_admin_…" },
        },
      },
      security: [{ adminKey: [] }],
    },
    // Only the management routes (all tagged): the branch APIs are Supabase's, not bough's.
    hideUntagged: true,
  });
  app.register(swaggerUi, { routePrefix: "/docs" });
  app.get("/openapi.json", { schema: { hide: true } }, () => app.swagger());

  const actors = new WeakMap<FastifyRequest, Ctx>();
  const deps: ManagementDeps = {
    ctxOf: (req) => {
      const c = actors.get(req);
      // The auth hook runs before every handler: no context means a route escaped it.
      if (!c) throw new Error("management request without an authenticated admin key");
      return c;
    },
    ops: operations(),
  };
  app.register(
    async (v1) => {
      v1.setErrorHandler((err, req, reply) => {
        const e = managementError(err);
        if (e.status >= 500) req.log.error(err);
        return sendError(reply, e);
      });
      // onRequest: before the body is even parsed, so no key means nothing is read or said.
      v1.addHook("onRequest", async (req) => {
        const name = adminKeyName(ctx, req.headers.authorization);
        actors.set(req, { ...ctx, actor: { kind: "api", name } });
      });
      for (const routes of [
        projectRoutes,
        branchRoutes,
        lifecycleRoutes,
        branchConfigRoutes,
        mergeRoutes,
        migrationRoutes,
        functionRoutes,
        scheduleRoutes,
        secretRoutes,
        emailRoutes,
        systemRoutes,
        historyRoutes,
      ]) {
        v1.register(routes(deps));
      }
    },
    { prefix: MANAGEMENT_PREFIX },
  );
}

export function adminKeyName(ctx: Ctx, authorization: string | undefined): string {
  const key = /^Bearer\s+(\S+)\s*$/iu.exec(authorization ?? "")?.[1];
  const name = key === undefined ? null : verifyAdminKey(ctx.db, key);
  if (name === null) {
    throw new BoughError(
      "UNAUTHORIZED",
      key === undefined ? "no admin key" : "invalid admin key",
      "send `Authorization: Bearer <admin key>`; `bough admin-key create NAME` makes one",
    );
  }
  return name;
}
