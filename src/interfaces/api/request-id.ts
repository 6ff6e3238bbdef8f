import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { FastifyInstance, FastifyRequest } from "fastify";

/** An id a caller (a proxy, a client's trace) may pass on: short, no spaces or control bytes. */
const SANE_ID = /^[\w.:@-]{1,128}$/;

/**
 * Fastify options giving each request an id: the caller's `x-request-id` when sane, else a
 * random UUID. Fastify puts it on every log line of the request (`reqId`).
 */
export const requestIds = {
  requestIdHeader: false as const,
  genReqId: (req: IncomingMessage): string => {
    const v = req.headers["x-request-id"];
    return typeof v === "string" && SANE_ID.test(v) ? v : randomUUID();
  },
};

/** Returns the request's id as `x-request-id`, so a user can quote it against the logs. */
export function echoRequestId(app: FastifyInstance): void {
  app.addHook("onRequest", async (req, reply) => {
    reply.header("x-request-id", req.id);
  });
}

/**
 * How a request shows in the logs: its path without the query string, which may carry a
 * key or a token (`?apikey=`, signed storage URLs); headers are never logged.
 */
export function loggedRequest(req: FastifyRequest): Record<string, unknown> {
  return { method: req.method, url: req.url.split("?")[0], remoteAddress: req.ip };
}
