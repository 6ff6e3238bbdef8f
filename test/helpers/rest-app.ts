import { createHmac, timingSafeEqual } from "node:crypto";
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import Fastify, { type FastifyInstance } from "fastify";
import type { Branch, Project } from "../../src/core/types.ts";
import type { BranchDb, PlatformRequest, RequestIdentity } from "../../src/platform/request.ts";
import { restRoutes } from "../../src/platform/rest/routes.ts";

/**
 * TEST HARNESS ONLY: the data API plugin on a bare Fastify app with a stand-in for the
 * server's identity logic. `anonKey`/`serviceKey` map to anon/service_role and a user token
 * is `test.<sub>.<hmac>` signed with a per-process secret. The real server decides identity
 * from per-branch keys and JWTs; this only lets the tests drive the plugin through supabase-js.
 */
export const TEST_KEYS = { anon: "test-anon-key", service: "test-service-key" };
const secret = createHmac("sha256", String(Math.random())).digest();
const sign = (sub: string) => createHmac("sha256", secret).update(sub).digest("hex");

export const userToken = (sub: string) => `test.${sub}.${sign(sub)}`;

export class HarnessAuthError extends Error {
  statusCode = 401;
}

function identityOf(apikey: unknown, authorization: unknown): RequestIdentity {
  const bearer = typeof authorization === "string" ? authorization.replace(/^Bearer /i, "") : "";
  if (bearer.startsWith("test.")) {
    const [, sub, mac] = bearer.split(".");
    const want = Buffer.from(sign(sub));
    const got = Buffer.from(mac ?? "");
    if (got.length !== want.length || !timingSafeEqual(got, want))
      throw new HarnessAuthError("bad test token");
    return { role: "authenticated", claims: { sub, role: "authenticated" } };
  }
  if (apikey === TEST_KEYS.service) return { role: "service_role", claims: {} };
  if (apikey === TEST_KEYS.anon) return { role: "anon", claims: {} };
  throw new HarnessAuthError("unknown test apikey");
}

export async function startRestApp(o: {
  db: BranchDb;
  schemas?: string[];
}): Promise<{ app: FastifyInstance; url: string }> {
  const project = { id: 1, name: "test", password: "", createdAt: "" } satisfies Project;
  const branch = {
    id: 1,
    projectId: 1,
    name: "main",
    parentId: null,
    mode: "full",
    state: "ready",
    port: 0,
    wantRunning: true,
    createdAt: "",
    forkedAt: null,
    forkLsn: null,
    lastError: null,
    masked: false,
    suspendAfterMs: null,
    suspendedAt: null,
  } satisfies Branch;
  const app = Fastify();
  const platformOf = async (req: {
    headers: Record<string, unknown>;
  }): Promise<PlatformRequest> => ({
    project,
    branch,
    db: o.db,
    identity: identityOf(req.headers.apikey, req.headers.authorization),
  });
  await app.register(restRoutes({ platformOf, schemas: o.schemas }), { prefix: "/rest/v1" });
  const address = await app.listen({ host: "127.0.0.1", port: 0 });
  return { app, url: address };
}

/**
 * Node 20 has no global WebSocket and supabase-js builds its realtime client eagerly; the
 * data API tests never open a channel, so this transport refuses to be used at all.
 */
class NoRealtime {
  constructor() {
    throw new Error("realtime is not part of the data API tests (Node 20 has no WebSocket)");
  }
}

/** The real supabase-js client on `url` with `key`, as a user when `token` is given. */
export function testClient(url: string, key: string, token?: string): SupabaseClient {
  return createClient(url, key, {
    auth: { persistSession: false, autoRefreshToken: false },
    global: token ? { headers: { Authorization: `Bearer ${token}` } } : {},
    realtime: { transport: NoRealtime as never },
  });
}
