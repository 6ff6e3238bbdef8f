import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import { BoughError } from "../core/errors.ts";

/**
 * The claim naming the branch a token was issued on: "<branch id>:<branch created at>",
 * so a branch id SQLite reuses after a delete never inherits the old branch's tokens.
 */
export const BRANCH_CLAIM = "bough_branch";

/** Seconds a user access token lives (GoTrue's default JWT expiry). */
export const ACCESS_TOKEN_TTL = 3600;

export interface AccessTokenClaims {
  sub: string;
  email: string | null;
  sessionId: string;
  /** branchTokenId() of the branch that issued it. */
  branch: string;
  appMetadata: Record<string, unknown>;
  userMetadata: Record<string, unknown>;
  isAnonymous: boolean;
}

/** The value of BRANCH_CLAIM for a branch. */
export function branchTokenId(b: { id: number; createdAt: string }): string {
  return `${b.id}:${b.createdAt}`;
}

/** Signs a user access token (HS256) with Supabase's claims and the issuing branch. */
export async function signAccessToken(
  secret: Uint8Array,
  c: AccessTokenClaims,
  o: { issuer: string; now?: number; ttl?: number } = { issuer: "bough" },
): Promise<{ token: string; expiresAt: number }> {
  const iat = o.now ?? Math.floor(Date.now() / 1000);
  const exp = iat + (o.ttl ?? ACCESS_TOKEN_TTL);
  const token = await new SignJWT({
    email: c.email ?? "",
    phone: "",
    app_metadata: c.appMetadata,
    user_metadata: c.userMetadata,
    role: "authenticated",
    aal: "aal1",
    amr: [{ method: "password", timestamp: iat }],
    session_id: c.sessionId,
    is_anonymous: c.isAnonymous,
    [BRANCH_CLAIM]: c.branch,
  })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(c.sub)
    .setAudience("authenticated")
    .setIssuer(o.issuer)
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .sign(secret);
  return { token, expiresAt: exp };
}

const unauthorized = (message: string) =>
  new BoughError("UNAUTHORIZED", message, "sign in again to get a fresh access token");

/**
 * Verifies a user access token: HS256 only (alg none and other algorithms are refused),
 * signature, expiry, audience, and that it was issued on one of `accepted` (the branch
 * serving the request and its ancestors). Returns its claims; throws UNAUTHORIZED.
 */
export async function verifyAccessToken(
  secret: Uint8Array,
  token: string,
  accepted: readonly string[],
): Promise<Record<string, unknown>> {
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, secret, {
      algorithms: ["HS256"],
      audience: "authenticated",
      requiredClaims: ["sub", "exp", "session_id", BRANCH_CLAIM],
    }));
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw unauthorized("invalid JWT: token is expired");
    throw unauthorized("invalid JWT: unable to parse or verify signature");
  }
  const issuedOn = payload[BRANCH_CLAIM];
  if (typeof issuedOn !== "string" || !accepted.includes(issuedOn)) {
    throw unauthorized(
      "invalid JWT: issued on another branch (tokens work on their branch and its descendants only)",
    );
  }
  return payload;
}
