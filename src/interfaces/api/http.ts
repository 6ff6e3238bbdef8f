import type { Socket } from "node:net";
import type { FastifyInstance, FastifyRequest } from "fastify";

/** JSON bodies, where an empty body (supabase-js' POST /logout sends none) is no body. */
export function jsonBodyParser(
  _req: FastifyRequest,
  body: string | Buffer,
  done: (err: Error | null, body?: unknown) => void,
): void {
  const text = body.toString();
  if (text.trim() === "") {
    done(null, undefined);
    return;
  }
  try {
    done(null, JSON.parse(text));
  } catch {
    done(
      Object.assign(new Error("request body is not valid JSON"), {
        statusCode: 400,
        code: "BAD_JSON",
      }),
    );
  }
}

/** Errors Node raises before a request exists (headers too large, garbage): answered in JSON. */
export function jsonClientError(err: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const [status, text, message] =
    err.code === "HPE_HEADER_OVERFLOW"
      ? [431, "Request Header Fields Too Large", "request headers are too large"]
      : [400, "Bad Request", "malformed HTTP request"];
  const body = JSON.stringify({
    code: status === 431 ? "HEADERS_TOO_LARGE" : "BAD_REQUEST",
    message,
  });
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

const ALLOWED_HEADERS =
  "authorization, x-client-info, apikey, content-type, prefer, range, accept-profile, content-profile, x-upsert, x-supabase-api-version, x-request-id";

/** Browsers may call a branch from any origin, as on Supabase: the key, not the origin, decides. */
export function allowCors(app: FastifyInstance): void {
  app.addHook("onRequest", async (req, reply) => {
    reply.header("access-control-allow-origin", req.headers.origin ?? "*");
    reply.header("vary", "Origin");
    reply.header(
      "access-control-expose-headers",
      "content-range, x-total-count, link, x-request-id",
    );
    if (req.method === "OPTIONS" && req.headers["access-control-request-method"]) {
      reply
        .header("access-control-allow-methods", "GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS")
        .header("access-control-allow-headers", ALLOWED_HEADERS)
        .header("access-control-max-age", "86400")
        .code(204)
        .send();
    }
  });
}
