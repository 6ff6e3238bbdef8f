import { Type, type TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { BoughError } from "../../core/errors.ts";
import { httpStatusOf } from "../http-status.ts";
import type { PlatformRequest } from "../request.ts";
import { RestError, toRestError } from "./errors.ts";
import { type RestRequest, tableRequest } from "./handlers.ts";
import { parsePrefer, pickSchema } from "./parse-headers.ts";
import { type RestReply, RollbackWith } from "./respond.ts";
import { rpcRequest } from "./rpc-handler.ts";
import { createRestService } from "./service.ts";

export interface RestRoutesOptions {
  /** The branch, its database and the caller's identity: decided by the server, never here. */
  platformOf: (req: FastifyRequest) => Promise<PlatformRequest>;
  /** Exposed schemas (default ["public"]); the first is the default profile. */
  schemas?: string[];
  /** Largest request body in bytes (Fastify's default, 1 MiB, when absent); larger is a 413. */
  bodyLimit?: number;
}

/** PostgREST's error body, for every 4xx/5xx this plugin answers. */
export const RestErrorBody = Type.Object({
  code: Type.String(),
  message: Type.String(),
  details: Type.Union([Type.String(), Type.Null()]),
  hint: Type.Union([Type.String(), Type.Null()]),
});

/** Rows (array), one row (object), a function's scalar, or nothing: JSON built by Postgres. */
const Body = Type.Unknown({ description: "JSON as PostgREST answers it" });
const responses = { "2xx": Body, "3xx": RestErrorBody, "4xx": RestErrorBody, "5xx": RestErrorBody };
const TableParams = Type.Object({ name: Type.String({ minLength: 1 }) });
const RpcParams = Type.Object({ fn: Type.String({ minLength: 1 }) });

/**
 * The data API (`/rest/v1`, PostgREST-compatible) as a Fastify plugin, mounted by the
 * server under a branch's prefix. Every request runs in one transaction as the caller's
 * role; a schema cache per branch, rebuilt after DDL, resolves every name.
 *
 * @example app.register(restRoutes({ platformOf }), { prefix: "/p/default/b/main/rest/v1" })
 */
export function restRoutes(o: RestRoutesOptions): FastifyPluginAsync {
  const service = createRestService({ schemas: o.schemas });
  return async (app) => {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();
    // Bodies are parsed here, not by Fastify, so bad JSON gets PostgREST's PGRST102.
    api.removeAllContentTypeParsers();
    api.addContentTypeParser("*", { parseAs: "string" }, (_req, body, done) => done(null, body));
    api.setErrorHandler((err, _req, reply) => {
      const { statusCode: status, code } = err as { statusCode?: number; code?: string };
      if (err instanceof RestError) return sendError(reply, err);
      // platformOf's refusals (wrong key, bad or foreign token, unknown branch) in PostgREST's
      // shape (PGRST301 for a token), with the status the server gives every BoughError.
      if (err instanceof BoughError) {
        const status = httpStatusOf(err.code);
        const pgrst = err.code === "UNAUTHORIZED" ? "PGRST301" : err.code;
        return sendError(
          reply,
          new RestError({ status, code: pgrst, message: err.message, hint: err.hint }),
        );
      }
      // Fastify's own refusals (body too large, bad content length) keep their status.
      if (status && status >= 400 && status < 500 && code?.startsWith("FST_"))
        return sendError(
          reply,
          new RestError({ status, code: "PGRST000", message: (err as Error).message }),
        );
      throw err;
    });

    // Paths and methods the API has not: PostgREST's codes, not Fastify's own body. OPTIONS
    // (CORS preflight) is left to the server.
    api.setNotFoundHandler((req, reply) =>
      sendError(
        reply,
        new RestError({
          status: 404,
          code: "PGRST125",
          message: "Invalid path specified in request URL",
          details: `${req.method} ${req.url.split("?")[0]}`,
        }),
      ),
    );
    api.route({
      method: "PUT",
      url: "/*",
      handler: (req, reply) =>
        sendError(
          reply,
          new RestError({
            status: 405,
            code: "PGRST117",
            message: `Unsupported HTTP method: ${req.method}`,
          }),
        ),
    });

    const serve = async (
      req: FastifyRequest,
      reply: FastifyReply,
      kind: "table" | "rpc",
      name: string,
    ) => {
      const pr = await o.platformOf(req);
      const method = req.method as RestRequest["method"];
      let answer: RestReply;
      try {
        const profile =
          method === "GET" || method === "HEAD"
            ? req.headers["accept-profile"]
            : req.headers["content-profile"];
        const r: RestRequest = {
          method,
          schema: pickSchema(profile, service.schemas),
          name,
          search: new URL(req.url, "http://localhost").searchParams,
          headers: req.headers,
          body: typeof req.body === "string" ? req.body : undefined,
        };
        const handler = kind === "rpc" ? rpcRequest : tableRequest;
        const rollback = parsePrefer(req.headers.prefer).tx === "rollback";
        answer = await service.run(pr, async (c, cache) => {
          const out = await handler(c, cache, r);
          if (rollback) throw new RollbackWith(out);
          return out;
        });
      } catch (err) {
        if (err instanceof RollbackWith) answer = err.reply;
        else return sendError(reply, toRestError(err, pr.identity.role));
      }
      reply.code(answer.status).headers(answer.headers);
      return answer.body === undefined ? reply.send() : reply.send(answer.body);
    };

    const limits = o.bodyLimit ? { bodyLimit: o.bodyLimit } : {};
    const tableRoute = { ...limits, schema: { params: TableParams, response: responses } };
    for (const method of ["GET", "POST", "PATCH", "DELETE"] as const) {
      api.route({
        method,
        url: "/:name",
        ...tableRoute,
        handler: (req, reply) => serve(req, reply, "table", req.params.name),
      });
    }
    const rpcRoute = { ...limits, schema: { params: RpcParams, response: responses } };
    for (const method of ["GET", "POST"] as const) {
      api.route({
        method,
        url: "/rpc/:fn",
        ...rpcRoute,
        handler: (req, reply) => serve(req, reply, "rpc", req.params.fn),
      });
    }
  };
}

function sendError(reply: FastifyReply, err: RestError) {
  return reply
    .code(err.status)
    .header("content-type", "application/json; charset=utf-8")
    .send(JSON.stringify(err.toJSON()));
}
