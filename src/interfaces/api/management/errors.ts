import type { FastifyReply } from "fastify";
import { BoughError } from "../../../core/errors.ts";
import { managementStatusOf } from "../../../platform/http-status.ts";
import type { ErrorBodyT } from "./schemas.ts";

export interface ManagementError {
  status: number;
  body: ErrorBodyT;
  retryAfterS?: number;
}

/**
 * Anything a management route threw, as its status and `{ code, message, hint }`: bough's
 * own errors by code (the CLI's codes), Fastify's request errors (validation, bad JSON,
 * body too large) with codes of their own, anything else an opaque 500.
 */
export function managementError(err: unknown): ManagementError {
  if (err instanceof BoughError) {
    const { status, retryAfterS } = managementStatusOf(err.code);
    const body: ErrorBodyT = { code: err.code, message: err.message, hint: err.hint };
    if (err.details !== undefined) body.details = err.details;
    return { status, body, retryAfterS };
  }
  const e = err as { statusCode?: number; code?: string; validation?: unknown; message?: string };
  if (e.validation) {
    return request(
      400,
      "INVALID_INPUT",
      e.message ?? "invalid request",
      "see /docs for what this route accepts",
    );
  }
  switch (e.code) {
    case "BAD_JSON":
      return request(400, "INVALID_INPUT", "request body is not valid JSON", "send a JSON body");
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return request(
        413,
        "PAYLOAD_TOO_LARGE",
        "request body is too large",
        "send at most 1 MiB (a function deploy: 11 MiB)",
      );
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return request(415, "UNSUPPORTED_MEDIA_TYPE", e.message ?? "", "send application/json");
  }
  if (typeof e.statusCode === "number" && e.statusCode >= 400 && e.statusCode < 500) {
    return request(e.statusCode, "INVALID_INPUT", e.message ?? "bad request", "see /docs");
  }
  return {
    status: 500,
    body: {
      code: "INTERNAL",
      message: "internal error",
      hint: "this is a bug; the server log has the details",
    },
  };
}

const request = (status: number, code: string, message: string, hint: string) => ({
  status,
  body: { code, message, hint },
});

export function sendError(reply: FastifyReply, e: ManagementError): FastifyReply {
  if (e.retryAfterS !== undefined) reply.header("retry-after", String(e.retryAfterS));
  if (e.status === 401) reply.header("www-authenticate", 'Bearer realm="bough"');
  return reply.code(e.status).send(e.body);
}
