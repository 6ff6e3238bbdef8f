import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import type { Branch, Project } from "../../core/types.ts";
import type { BranchKeys } from "../keys/keys.ts";
import type { BranchDb } from "../request.ts";
import { invokeWorker } from "./invoke.ts";
import type { FunctionRuntime } from "./runtime.ts";
import { functionNotFound, validateFunctionName } from "./source.ts";
import { getFunction, recordInvocation } from "./store.ts";
import { BootError, type LineSink } from "./worker.ts";

export interface FunctionsPluginOptions {
  /** Resolves the caller; throws UNAUTHORIZED without a valid key or token of this branch. */
  verify: (req: FastifyRequest) => Promise<unknown>;
  /** The request's branch without a caller (functions deployed with verify_jwt off take anyone). */
  branchOf: (req: FastifyRequest) => Promise<{
    project: Project;
    branch: Branch;
    db: BranchDb;
    keys: BranchKeys;
    apiUrl: string;
  }>;
  runtime: FunctionRuntime;
  /** Extra env of a branch's functions: its secrets (SUPABASE_* names stay bough's). */
  secretsOf?: (s: {
    project: Project;
    branch: Branch;
    db: BranchDb;
  }) => Promise<Record<string, string>>;
}

/** Kept per invocation in functions.invocations; Supabase keeps 10,000 characters a message. */
const LOG_CHARS = 64 << 10;
const clip = (lines: string[]) => {
  const text = lines.join("\n");
  return text.length > LOG_CHARS ? `${text.slice(0, LOG_CHARS)}\n[truncated]` : text;
};

/**
 * `/functions/v1/<name>[/<subpath>]`, any method: supabase-js' `functions.invoke` and plain
 * fetch. The body is passed through as bytes (up to maxBodyBytes, else 413), the response
 * streamed back, and each invocation's status, duration and output recorded.
 */
export function functionsRoutes(o: FunctionsPluginOptions): FastifyPluginAsync {
  return async (app) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser(
      "*",
      { parseAs: "buffer", bodyLimit: o.runtime.limits.maxBodyBytes },
      (_req, body, done) => done(null, body),
    );
    const handler = async (req: FastifyRequest, reply: FastifyReply) => {
      const { name } = req.params as { name: string };
      validateFunctionName(name);
      const served = await o.branchOf(req);
      const fn = await served.db.asService((c) => getFunction(c, name));
      if (!fn) {
        await o.runtime.stop(served.branch.id, name);
        throw functionNotFound(name);
      }
      if (fn.verifyJwt) await o.verify(req);
      const env = {
        ...(await o.secretsOf?.(served)),
        SUPABASE_URL: served.apiUrl,
        SUPABASE_ANON_KEY: served.keys.publishableKey,
        SUPABASE_PUBLISHABLE_KEY: served.keys.publishableKey,
        SUPABASE_SERVICE_ROLE_KEY: served.keys.secretKey,
        SUPABASE_SECRET_KEY: served.keys.secretKey,
      };
      const sink: LineSink = { stdout: [], stderr: [] };
      const startedAt = new Date();
      const record = (status: number, outcome: Parameters<typeof recordInvocation>[1]["outcome"]) =>
        served.db
          .asService((c) =>
            recordInvocation(c, {
              name,
              startedAt,
              durationMs: Date.now() - startedAt.getTime(),
              status,
              outcome,
              stdout: clip(sink.stdout),
              stderr: clip(sink.stderr),
            }),
          )
          .catch((err) => req.log.error(err));
      let worker: Awaited<ReturnType<FunctionRuntime["acquire"]>>;
      try {
        worker = await o.runtime.acquire(served.branch.id, fn, env, sink);
      } catch (err) {
        if (!(err instanceof BootError)) throw err;
        // Supabase's BOOT_ERROR: the module threw or never served.
        const outcome = err.kind === "memory" ? "memory" : "crash";
        const status = err.kind === "memory" ? 546 : 503;
        await record(status, outcome);
        return reply.code(status).send({
          code: err.kind === "memory" ? "WORKER_LIMIT" : "BOOT_ERROR",
          message: `Function failed to start (check logs): ${err.message.split("\n").slice(-3).join(" ")}`,
        });
      }
      const url = req.url;
      const marker = `/functions/v1/${name}`;
      const r = await invokeWorker(
        worker,
        {
          method: req.method,
          path: `/${name}${url.slice(url.indexOf(marker) + marker.length)}`,
          headers: req.headers,
          body: req.body instanceof Buffer ? req.body : undefined,
        },
        { timeoutMs: o.runtime.limits.timeoutMs, sink },
      );
      if (r.kind === "failed") {
        await r.end.then((end) => record(end.status, end.outcome));
        return reply.code(r.status).send(r.body);
      }
      void r.end.then((end) => record(end.status, end.outcome));
      return reply.code(r.status).headers(r.headers).send(r.body);
    };
    app.all("/:name", handler);
    app.all("/:name/*", handler);
  };
}
