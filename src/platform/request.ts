import type pg from "pg";
import type { Branch, Project } from "../core/types.ts";

/**
 * The Postgres roles requests run as, named as Supabase names them, so RLS policies
 * written for Supabase (`to authenticated using (auth.uid() = user_id)`) work unchanged.
 */
export type RequestRole = "anon" | "authenticated" | "service_role";

/** Who is calling: decided from the API key and, when present, the user's access token. */
export interface RequestIdentity {
  role: RequestRole;
  /** Exposed as `request.jwt.claims` (sub, role, email, ...); `{ role }` for a key alone. */
  claims: Record<string, unknown>;
}

/** A branch's database as a platform service sees it. */
export interface BranchDb {
  /**
   * Runs fn in one transaction as the caller (SET LOCAL ROLE, request.jwt.claims):
   * commits when fn resolves, rolls back when it throws. Access is decided by RLS.
   */
  asRequest<T>(identity: RequestIdentity, fn: (c: pg.ClientBase) => Promise<T>): Promise<T>;
  /** Runs fn in one transaction as the cluster's superuser: platform internals only. */
  asService<T>(fn: (c: pg.ClientBase) => Promise<T>): Promise<T>;
}

/** Everything a platform route needs about the request it serves. */
export interface PlatformRequest {
  project: Project;
  branch: Branch;
  db: BranchDb;
  identity: RequestIdentity;
}
