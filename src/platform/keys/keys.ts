import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** A branch's API keys, named as Supabase names its new-style keys. */
export interface BranchKeys {
  /** Anon role: safe to ship in an app; RLS decides what it reaches. */
  publishableKey: string;
  /** service_role: bypasses RLS; for servers and admin tools only. */
  secretKey: string;
}

export function generateBranchKeys(): BranchKeys {
  return {
    publishableKey: `sb_publishable_${randomBytes(24).toString("base64url")}`,
    secretKey: `sb_secret_${randomBytes(24).toString("base64url")}`,
  };
}

/** A project's token-signing secret: 32 random bytes, base64url. */
export function generateJwtSecret(): string {
  return randomBytes(32).toString("base64url");
}

const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();

/**
 * Compares a presented key with a stored one in constant time: both are hashed first, so
 * neither the length nor the content of the stored key leaks through timing.
 */
export function keyMatches(presented: string, stored: string): boolean {
  return timingSafeEqual(digest(presented), digest(stored));
}

/** Which role a key grants on its branch, or null when it is neither of the branch's keys. */
export function roleOfKey(presented: string, keys: BranchKeys): "anon" | "service_role" | null {
  // Both comparisons always run: which key matched must not show in the timing either.
  const secret = keyMatches(presented, keys.secretKey);
  const publishable = keyMatches(presented, keys.publishableKey);
  if (secret) return "service_role";
  if (publishable) return "anon";
  return null;
}
