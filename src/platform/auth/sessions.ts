import { createHash, randomBytes } from "node:crypto";
import type pg from "pg";
import { ACCESS_TOKEN_TTL, signAccessToken } from "../tokens.ts";
import type { AuthRequest } from "./context.ts";
import { type AuthError, authError } from "./errors.ts";
import type { SessionJson } from "./schemas.ts";
import { requireUser, type UserRow, userJson } from "./users.ts";

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

async function newRefreshToken(c: pg.ClientBase, sessionId: string): Promise<string> {
  const token = randomBytes(24).toString("base64url");
  await c.query("INSERT INTO auth.refresh_tokens (token_hash, session_id) VALUES ($1, $2)", [
    sha256(token),
    sessionId,
  ]);
  return token;
}

async function sessionJson(
  ar: AuthRequest,
  user: UserRow,
  o: { sessionId: string; refreshToken: string },
): Promise<SessionJson> {
  const { token, expiresAt } = await signAccessToken(
    ar.jwtSecret,
    {
      sub: user.id,
      email: user.email,
      sessionId: o.sessionId,
      branch: ar.branchToken,
      appMetadata: user.raw_app_meta_data,
      userMetadata: user.raw_user_meta_data,
      isAnonymous: user.is_anonymous,
    },
    { issuer: `${ar.apiUrl}/auth/v1` },
  );
  return {
    access_token: token,
    token_type: "bearer" as const,
    expires_in: ACCESS_TOKEN_TTL,
    expires_at: expiresAt,
    refresh_token: o.refreshToken,
    user: userJson(user),
  };
}

/** Starts a session for a signed-in user: session row, refresh token, access token. */
export async function startSession(
  c: pg.ClientBase,
  ar: AuthRequest,
  user: UserRow,
): Promise<SessionJson> {
  const s = await c.query<{ id: string }>(
    "INSERT INTO auth.sessions (user_id) VALUES ($1) RETURNING id",
    [user.id],
  );
  const sessionId = s.rows[0].id;
  const refreshToken = await newRefreshToken(c, sessionId);
  await c.query("UPDATE auth.users SET last_sign_in_at = now() WHERE id = $1", [user.id]);
  return sessionJson(ar, await requireUser(c, user.id), { sessionId, refreshToken });
}

/**
 * grant_type=refresh_token with rotation: the token is spent and a new one issued. A spent
 * token presented again means it leaked (or a client raced itself): the whole session is
 * revoked, so whoever holds the newer token is signed out too.
 */
export async function refreshSession(
  c: pg.ClientBase,
  ar: AuthRequest,
  token: string,
): Promise<{ session?: SessionJson; error?: AuthError }> {
  const r = await c.query<{ id: string; session_id: string; revoked: boolean; user_id: string }>(
    `SELECT t.id, t.session_id, t.revoked, s.user_id
       FROM auth.refresh_tokens t JOIN auth.sessions s ON s.id = t.session_id
      WHERE t.token_hash = $1 FOR UPDATE OF t`,
    [sha256(token)],
  );
  const row = r.rows[0];
  if (!row) {
    throw authError(
      400,
      "refresh_token_not_found",
      "Invalid Refresh Token: Refresh Token Not Found",
    );
  }
  if (row.revoked) {
    // Committed even though the request fails: the caller returns the error after commit.
    await c.query("DELETE FROM auth.sessions WHERE id = $1", [row.session_id]);
    return {
      error: authError(400, "refresh_token_already_used", "Invalid Refresh Token: Already Used"),
    };
  }
  await c.query("UPDATE auth.refresh_tokens SET revoked = true WHERE id = $1", [row.id]);
  await c.query("UPDATE auth.sessions SET refreshed_at = now() WHERE id = $1", [row.session_id]);
  const refreshToken = await newRefreshToken(c, row.session_id);
  const user = await requireUser(c, row.user_id);
  return { session: await sessionJson(ar, user, { sessionId: row.session_id, refreshToken }) };
}

/** The signed-in caller's user id and session, checked against this branch's sessions. */
export async function requireSession(
  c: pg.ClientBase,
  ar: AuthRequest,
): Promise<{ userId: string; sessionId: string }> {
  const { role, claims } = ar.identity;
  if (role !== "authenticated" || typeof claims.sub !== "string") {
    throw authError(401, "no_authorization", "This endpoint requires a valid Bearer token");
  }
  const sessionId = String(claims.session_id);
  if (!UUID_RE.test(sessionId) || !UUID_RE.test(claims.sub)) {
    throw authError(
      403,
      "session_not_found",
      "Session from session_id claim in JWT does not exist",
    );
  }
  const r = await c.query<{ user_id: string }>(
    "SELECT user_id FROM auth.sessions WHERE id = $1::uuid AND user_id = $2::uuid",
    [sessionId, claims.sub],
  );
  if (r.rowCount === 0) {
    throw authError(
      403,
      "session_not_found",
      "Session from session_id claim in JWT does not exist",
    );
  }
  return { userId: claims.sub, sessionId };
}

/** POST /logout: this session (local), every session of the user (global), or the others. */
export async function endSessions(
  c: pg.ClientBase,
  o: { userId: string; sessionId: string; scope: "global" | "local" | "others" },
): Promise<void> {
  if (o.scope === "local") {
    await c.query("DELETE FROM auth.sessions WHERE id = $1", [o.sessionId]);
  } else if (o.scope === "others") {
    await c.query("DELETE FROM auth.sessions WHERE user_id = $1 AND id <> $2", [
      o.userId,
      o.sessionId,
    ]);
  } else {
    await c.query("DELETE FROM auth.sessions WHERE user_id = $1", [o.userId]);
  }
}
