import { BoughError } from "../core/errors.ts";
import { type BranchKeys, roleOfKey } from "./keys/keys.ts";
import type { RequestIdentity } from "./request.ts";
import { verifyAccessToken } from "./tokens.ts";

export interface IdentityInput {
  /** The `apikey` header (or query parameter), as supabase-js sends it. */
  apikey: string | undefined;
  /** The `Authorization` header. */
  authorization: string | undefined;
  keys: BranchKeys;
  jwtSecret: Uint8Array;
  /** Branch token ids whose tokens this branch accepts: itself and its ancestors. */
  acceptedBranches: readonly string[];
}

const unauthorized = (message: string, hint: string) =>
  new BoughError("UNAUTHORIZED", message, hint);

/**
 * Who is calling, as Supabase decides it: the API key must be one of this branch's keys
 * (publishable → anon, secret → service_role); a Bearer token that is not a key must be a
 * valid user access token accepted here, and makes the request `authenticated` with its claims.
 */
export async function resolveIdentity(i: IdentityInput): Promise<RequestIdentity> {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(i.authorization ?? "")?.[1];
  const apikey = i.apikey ?? bearer;
  if (!apikey) {
    throw unauthorized(
      "No API key found in request",
      "send the branch's key in the apikey header (`bough branch keys NAME`)",
    );
  }
  const keyRole = roleOfKey(apikey, i.keys);
  if (keyRole === null) {
    throw unauthorized(
      "Invalid API key",
      "use this branch's own keys: `bough branch keys NAME` (keys of another branch are refused)",
    );
  }
  if (!bearer || bearer === apikey) return { role: keyRole, claims: {} };
  const bearerRole = roleOfKey(bearer, i.keys);
  if (bearerRole !== null) return { role: bearerRole, claims: {} };
  const claims = await verifyAccessToken(i.jwtSecret, bearer, i.acceptedBranches);
  return { role: "authenticated", claims };
}
