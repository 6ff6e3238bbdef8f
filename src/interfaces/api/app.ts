import Fastify, {
  type FastifyInstance,
  type FastifyRequest,
  type FastifyServerOptions,
} from "fastify";
import type { Activity } from "../../branches/activity.ts";
import { branchUrl, isRunning } from "../../branches/branch-cluster.ts";
import type { Ctx } from "../../branches/context.ts";
import { deliverBranchMail } from "../../branches/email.ts";
import { branchPathPrefix } from "../../branches/keys.ts";
import { type RunnerOptions, startScheduleRunner } from "../../branches/schedules-runner.ts";
import { secretsAccess } from "../../branches/secrets.ts";
import { openBranchServer, type ServedBranch, servesOn } from "../../branches/serve.ts";
import { projectBlobs } from "../../branches/storage-blobs.ts";
import { branchById } from "../../control/branches.ts";
import { projectById } from "../../control/projects.ts";
import type { Project } from "../../core/types.ts";
import type { AuthRequest } from "../../platform/auth/context.ts";
import { authRoutes } from "../../platform/auth/routes.ts";
import { emailRoutes } from "../../platform/email/routes.ts";
import { denoHost } from "../../platform/functions/deno.ts";
import { functionsRoutes } from "../../platform/functions/routes.ts";
import { type FunctionLimits, FunctionRuntime } from "../../platform/functions/runtime.ts";
import { describeHttpError } from "../../platform/http-status.ts";
import { resolveIdentity } from "../../platform/identity.ts";
import { attachRealtime } from "../../platform/realtime/server.ts";
import { restRoutes } from "../../platform/rest/routes.ts";
import { checkExposedSchemas } from "../../platform/rest/service.ts";
import { branchSecretEnv } from "../../platform/secrets/store.ts";
import { storageRoutes } from "../../platform/storage/routes.ts";
import { type DashboardOptions, dashboardRoutes } from "../dashboard/routes.ts";
import { registerMcpHttp } from "../mcp/http.ts";
import { allowCors, jsonBodyParser, jsonClientError } from "./http.ts";
import { registerManagement } from "./management/index.ts";
import { registerMetrics } from "./metrics.ts";
import { echoRequestId, requestIds } from "./request-id.ts";

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
  /** Scale to zero's use counter (`bough up` shares it with the Postgres proxy). */
  activity?: Activity;
  /** Fastify's (pino) logger: off by default; `bough up` logs JSON to stderr. */
  logger?: FastifyServerOptions["logger"];
  /** Schemas the data API exposes (default ["public"]; the first is the default profile). */
  restSchemas?: string[];
  /** Limits of edge function processes (Supabase's hosted defaults otherwise). */
  functions?: FunctionLimits;
  /** Run the schedules of running branches in this process (`bough up` does), stopped on close. */
  schedules?: boolean | Omit<RunnerOptions, "apiBase">;
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
    ...requestIds,
  });
  echoRequestId(app);
  registerMetrics(app, ctx);
  const branches = openBranchServer(ctx, {
    startTimeoutMs: o.startTimeoutMs,
    onStarted: o.onStarted,
    activity: o.activity,
  });
  // One Deno process per function per branch; stopped when idle, when the branch stops or
  // is deleted (any process may do that), and when the server closes.
  const functions = new FunctionRuntime(
    () => denoHost(ctx.paths.home, ctx.cluster.runAs),
    o.functions,
    (id) => {
      const b = branchById(ctx.db, id);
      const p = b && projectById(ctx, b.projectId);
      return !!b && !!p && b.state !== "deleting" && isRunning(ctx, p, b);
    },
  );
  // Functions first: their last invocations are recorded through the branches' pools.
  app.addHook("onClose", () => functions.close());
  app.addHook("onClose", () => branches.close());
  // WebSockets bypass Fastify's routing: realtime takes the server's upgrade requests.
  const realtime = attachRealtime(app.server, {
    open: async (project, branch) => {
      const s = await branches.open(project, branch);
      return {
        key: `${s.branch.id}:${s.branch.port}`,
        id: s.branch.id,
        port: s.branch.port,
        db: s.db,
        replicationUrl: branchUrl(s.project, s.branch),
        identify: (apikey, token) =>
          resolveIdentity({
            apikey,
            authorization: token ? `Bearer ${token}` : undefined,
            keys: s.keys,
            jwtSecret: s.jwtSecret,
            acceptedBranches: s.acceptedTokens,
          }),
      };
    },
    live: (b) => servesOn(ctx, b.id, b.port),
  });
  app.addHook("preClose", () => realtime.close());
  if (o.schedules) {
    const runner = startScheduleRunner(ctx, {
      ...(o.schedules === true ? {} : o.schedules),
      // Function targets are called on this server, once it listens.
      apiBase: () => {
        const a = app.server.address();
        return a && typeof a === "object" ? `http://127.0.0.1:${a.port}` : null;
      },
    });
    app.addHook("onClose", () => runner.stop());
  }
  allowCors(app);
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, jsonBodyParser);
  registerManagement(app, ctx);
  registerMcpHttp(app, ctx, { project: o.dashboard?.project });

  const served = new WeakMap<FastifyRequest, Promise<AuthRequest>>();
  // Requests that queued mail: delivered once their response is sent (their transaction committed).
  const queuedMail = new WeakSet<FastifyRequest>();
  app.addHook("onResponse", async (req) => {
    if (!queuedMail.has(req)) return;
    const ar = await served.get(req);
    if (ar) void deliverBranchMail(ctx, ar.project, ar.branch, ar.db.asService).catch(() => {});
  });
  const platformOf = (req: FastifyRequest): Promise<AuthRequest> => {
    let p = served.get(req);
    if (!p) {
      p = resolveRequest(req);
      served.set(req, p);
    }
    return p;
  };
  const apiUrlOf = (req: FastifyRequest, s: ServedBranch) =>
    `${o.publicUrl ?? `http://127.0.0.1:${req.socket.localPort}`}${branchPathPrefix(s.project.name, s.branch.name)}`;
  const branchOf = (req: FastifyRequest) => {
    const { project, branch } = req.params as { project: string; branch: string };
    return branches.open(project, branch);
  };
  const resolveRequest = async (req: FastifyRequest): Promise<AuthRequest> => {
    const s = await branchOf(req);
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
      mailQueued: () => queuedMail.add(req),
      apiUrl: apiUrlOf(req, s),
    };
  };

  app.register(
    async (branch) => {
      branch.register(authRoutes({ platformOf }), { prefix: "/auth/v1" });
      branch.register(restRoutes({ platformOf, schemas: o.restSchemas }), {
        prefix: "/rest/v1",
      });
      const blobsOf = (p: Project) => projectBlobs(ctx, p);
      branch.register(storageRoutes({ platformOf, branchOf, blobsOf }), { prefix: "/storage/v1" });
      branch.register(
        functionsRoutes({
          verify: platformOf,
          branchOf: async (req) => {
            const s = await branchOf(req);
            return { ...s, apiUrl: apiUrlOf(req, s) };
          },
          runtime: functions,
          secretsOf: (s) => {
            const access = secretsAccess(ctx, s.project, s.branch);
            return s.db.asService((c) => branchSecretEnv(c, access.key, access.branch));
          },
        }),
        { prefix: "/functions/v1" },
      );
      branch.register(emailRoutes({ platformOf }), { prefix: "/email/v1" });
    },
    { prefix: BRANCH_PREFIX },
  );

  if (o.dashboard) app.register(dashboardRoutes({ ...o.dashboard, ctx, publicUrl: o.publicUrl }));

  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({
      code: "NOT_FOUND",
      message: `no route ${req.method} ${req.url.split("?")[0]}`,
      hint: "branch APIs live under /p/<project>/b/<branch>/ (auth/v1, rest/v1, storage/v1, functions/v1, email/v1), the management API under /v1 (see /docs)",
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
