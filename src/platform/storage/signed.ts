import { jwtVerify, SignJWT } from "jose";
import { storageError } from "./errors.ts";

/** Audience of signed-URL tokens: never accepted as an access token (those need "authenticated"). */
const AUDIENCE = "bough-storage-signed-url";

/**
 * A signed URL's token: HS256 with the project's secret, naming the object and the branch
 * it was signed on (valid there only), expiring after expiresIn seconds.
 */
export function signObjectToken(
  secret: Uint8Array,
  o: { url: string; branch: string; expiresIn: number },
): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);
  return new SignJWT({ url: o.url, branch: o.branch })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setAudience(AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + o.expiresIn)
    .sign(secret);
}

/** Checks a signed URL's token against the object and branch it is presented for. */
export async function verifyObjectToken(
  secret: Uint8Array,
  token: string,
  want: { url: string; branch: string },
): Promise<void> {
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, secret, { algorithms: ["HS256"], audience: AUDIENCE }));
  } catch {
    throw storageError(400, "InvalidSignature", "invalid or expired signed URL");
  }
  if (payload.url !== want.url || payload.branch !== want.branch) {
    throw storageError(400, "InvalidSignature", "the signed URL is for another object or branch");
  }
}
