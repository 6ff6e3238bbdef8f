import { randomBytes } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";

/** Admin key → the name of who holds it (the key's name), or null for a key not accepted. */
export type Authorize = (token: string) => Promise<string | null>;

export const COOKIE = "bough_dashboard";

/**
 * Dashboard sessions: the admin key is asked for once, kept server-side, and the browser
 * holds only a random session id in an HttpOnly, SameSite=Strict cookie (no script can
 * read it, no other site can send it). Every request checks the key again, so a revoked
 * key ends its sessions at once. Sessions live in memory: a restarted server asks again.
 */
export function dashboardSessions(authorize: Authorize) {
  const sessions = new Map<string, string>();
  return {
    /** A new session for an accepted key (its id goes in the cookie), or null. */
    async login(key: string): Promise<{ id: string; actor: string } | null> {
      const actor = await authorize(key);
      if (actor === null) return null;
      const id = randomBytes(32).toString("base64url");
      sessions.set(id, key);
      return { id, actor };
    },
    /** Who the request's session belongs to, or null (no cookie, unknown or revoked). */
    async actorOf(req: FastifyRequest): Promise<string | null> {
      const id = cookieOf(req, COOKIE);
      const key = id === null ? undefined : sessions.get(id);
      if (id === null || key === undefined) return null;
      const actor = await authorize(key);
      if (actor === null) sessions.delete(id);
      return actor;
    },
    logout(req: FastifyRequest): void {
      const id = cookieOf(req, COOKIE);
      if (id !== null) sessions.delete(id);
    },
  };
}

export type DashboardSessions = ReturnType<typeof dashboardSessions>;

export function setSessionCookie(reply: FastifyReply, id: string): void {
  reply.header("set-cookie", `${COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict`);
}

export function clearSessionCookie(reply: FastifyReply): void {
  reply.header("set-cookie", `${COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`);
}

function cookieOf(req: FastifyRequest, name: string): string | null {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}
