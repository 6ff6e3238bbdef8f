import { randomUUID } from "node:crypto";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Ctx } from "../../branches/context.ts";
import { DEFAULT_PROJECT } from "../../branches/projects.ts";
import { toBoughError } from "../../core/errors.ts";
import { adminKeyName } from "../api/management/index.ts";
import { buildMcpServer } from "./server.ts";

interface Session {
  transport: StreamableHTTPServerTransport;
  /** The admin key that opened it: another key cannot use the session. */
  keyName: string;
}

/**
 * The MCP server over Streamable HTTP at /mcp, behind admin keys (`Authorization: Bearer`):
 * one MCP session per initialize, its calls audited as the key's name and the client's name.
 */
export function registerMcpHttp(
  app: FastifyInstance,
  ctx: Ctx,
  o: { project?: string; allowMainWrites?: boolean } = {},
): void {
  const sessions = new Map<string, Session>();
  const handle = async (req: FastifyRequest, reply: FastifyReply) => {
    let keyName: string;
    try {
      keyName = adminKeyName(ctx, req.headers.authorization);
    } catch (err) {
      const e = toBoughError(err);
      return reply.code(401).send({ code: e.code, message: e.message, hint: e.hint });
    }
    const id = req.headers["mcp-session-id"];
    let session = typeof id === "string" ? sessions.get(id) : undefined;
    if (session && session.keyName !== keyName) session = undefined;
    if (!session) {
      if (id !== undefined || req.method !== "POST" || !isInitializeRequest(req.body)) {
        return reply.code(404).send({
          code: "NOT_FOUND",
          message: "no such MCP session",
          hint: "start a session with an initialize request",
        });
      }
      const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: randomUUID,
        onsessioninitialized: (sid) => {
          sessions.set(sid, { transport, keyName });
        },
      });
      transport.onclose = () => {
        if (transport.sessionId) sessions.delete(transport.sessionId);
      };
      const server = buildMcpServer(ctx, {
        project: o.project ?? DEFAULT_PROJECT,
        actorName: keyName,
        allowMainWrites: o.allowMainWrites,
      });
      await server.connect(transport);
      session = { transport, keyName };
    }
    reply.hijack();
    await session.transport.handleRequest(req.raw, reply.raw, req.body);
  };
  app.post("/mcp", handle);
  app.get("/mcp", handle);
  app.delete("/mcp", handle);
  app.addHook("onClose", async () => {
    for (const s of sessions.values()) await s.transport.close();
  });
}
