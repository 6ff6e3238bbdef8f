import Fastify, { type FastifyInstance, type FastifyRequest } from "fastify";
import type { Ctx } from "../../branches/context.ts";
import { branchPathPrefix } from "../../branches/keys.ts";
import { openBranchServer } from "../../branches/serve.ts";
import { projectBlobs } from "../../branches/storage-blobs.ts";
import type { Project } from "../../core/types.ts";
import type { AuthRequest } from "../../platform/auth/context.ts";
import { authRoutes } from "../../platform/auth/routes.ts";
import { describeHttpError } from "../../platform/http-status.ts";
import { resolveIdentity } from "../../platform/identity.ts";
import { restRoutes } from "../../platform/rest/routes.ts";
import { checkExposedSchemas } from "../../platform/rest/service.ts";
import { storageRoutes } from "../../platform/storage/routes.ts";
import { type DashboardOptions, dashboardRoutes } from "../dashboard/routes.ts";
import { allowCors, jsonBodyParser, jsonClientError } from "./http.ts";

export interface AppOptions {
  /** Longest a request waits for its stopped branch to start (ms). */
  startTimeoutMs?: number;
  /**
   * Base URL clients reach the server at (token issuer, links in mail). Default:
   * http://127.0.0.1:<the port the request came in on>. Never taken from the Host header,
   * which the caller controls (a forged Host would point password-reset links elsewhere).
   */
  publicUrl?: string;
  /** Told of each stopped branch a request started. */
  onStarted?: (project: string, branch: string) => void;
  logger?: boolean;
  /** Schemas the data API exposes (default ["public"]; the first is the default profile). */
  restSchemas?: string[];
  /** Serves the dashboard at `/` (and `/dashboard/...`) to holders of an admin key. */
  dashboard?: Omit<DashboardOptions, "ctx" | "publicUrl">;
}

/** Where a branch's services are mounted: `/p/<project>/b/<branch>/<service>/v1/...`. */
export const BRANCH_PREFIX = "/p/:project/b/:branch";

/**
 * The HTTP server of every branch: routes `/p/<project>/b/<branch>/...` to that branch
 * (starting it if stopped), resolves the caller from its key and token, and hands each
 * service plugin a PlatformRequest. Test it with `app.inject()` or `app.listen()`.
 *
 * @example const app = buildApp(ctx); await app.listen({ port: 8420, host: "127.0.0.1" })
 */
export function buildApp(ctx: Ctx, o: AppOptions = {}): FastifyInstance {
  // Refused here, before listening, so a bad --db-schemas is a usage error, not a failed start.
  if (o.restSchemas) checkExposedSchemas(o.restSchemas);
  const app = Fastify({
    // Data API paths carry table and function names (up to 63 bytes, percent-encoded).
    maxParamLength: 256,
    logger: o.logger ?? false,
    // Headers past Node's limit get a JSON 431 instead of a bare socket close.
    clientErrorHandler: jsonClientError,
    // Served on loopback with no proxy in front: X-Forwarded-* headers are not trusted.
    trustProxy: false,
  });
  const branches = openBranchServer(ctx, {
    startTimeoutMs: o.startTimeoutMs,
    onStarted: o.onStarted,
  });
  app.addHook("onClose", () => branches.close());
  allowCors(app);
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, jsonBodyParser);

  const served = new WeakMap<FastifyRequest, Promise<AuthRequest>>();
  const platformOf = (req: FastifyRequest): Promise<AuthRequest> => {
    let p = served.get(req);
    if (!p) {
      p = resolveRequest(req);
      served.set(req, p);
    }
    return p;
  };
  const resolveRequest = async (req: FastifyRequest): Promise<AuthRequest> => {
    const { project, branch } = req.params as { project: string; branch: string };
    const s = await branches.open(project, branch);
    const query = req.query as Record<string, unknown> | undefined;
    const identity = await resolveIdentity({
      apikey: headerOf(req, "apikey") ?? stringOr(query?.apikey),
      authorization: headerOf(req, "authorization"),
      keys: s.keys,
      jwtSecret: s.jwtSecret,
      acceptedBranches: s.acceptedTokens,
    });
    return {
      project: s.project,
      branch: s.branch,
      db: s.db,
      identity,
      jwtSecret: s.jwtSecret,
      branchToken: s.branchToken,
      apiUrl: `${o.publicUrl ?? `http://127.0.0.1:${req.socket.localPort}`}${branchPathPrefix(s.project.name, s.branch.name)}`,
    };
  };

  app.register(
    async (branch) => {
      branch.register(authRoutes({ platformOf }), { prefix: "/auth/v1" });
      branch.register(restRoutes({ platformOf, schemas: o.restSchemas }), {
        prefix: "/rest/v1",
      });
      const blobsOf = (p: Project) => projectBlobs(ctx, p);
      const branchOf = (req: FastifyRequest) => {
        const { project, branch } = req.params as { project: string; branch: string };
        return branches.open(project, branch);
      };
      branch.register(storageRoutes({ platformOf, branchOf, blobsOf }), { prefix: "/storage/v1" });
    },
    { prefix: BRANCH_PREFIX },
  );

  if (o.dashboard) app.register(dashboardRoutes({ ...o.dashboard, ctx, publicUrl: o.publicUrl }));

  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({
      code: "NOT_FOUND",
      message: `no route ${req.method} ${req.url.split("?")[0]}`,
      hint: "branch APIs live under /p/<project>/b/<branch>/ (auth/v1, rest/v1)",
    });
  });
  app.setErrorHandler((err, req, reply) => {
    const e = describeHttpError(err);
    if (e.status >= 500) req.log.error(err);
    reply.code(e.status).send({ code: e.code, message: e.message });
  });
  return app;
}

function headerOf(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

const stringOr = (v: unknown) => (typeof v === "string" ? v : undefined);
