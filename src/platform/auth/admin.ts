import { type ConfigKey, configJson, readConfig, writeConfig } from "./config.ts";
import type { AuthRequest } from "./context.ts";
import { authError } from "./errors.ts";
import { hashPassword } from "./password.ts";
import { listProviders, type ProviderJson, putProvider } from "./providers.ts";
import type { UserJson } from "./schemas.ts";
import { checkPassword, tx } from "./service.ts";
import { UUID_RE } from "./sessions.ts";
import {
  insertUser,
  listUsers,
  normaliseEmail,
  requireUser,
  updateUser,
  userJson,
} from "./users.ts";

type Json = Record<string, unknown>;

/** The admin API needs the branch's secret key (service_role), as GoTrue needs an admin JWT. */
function requireAdmin(ar: AuthRequest): void {
  if (ar.identity.role !== "service_role") throw authError(403, "not_admin", "User not allowed");
}

function requireUuid(id: string): string {
  if (!UUID_RE.test(id)) throw authError(404, "user_not_found", "User not found");
  return id;
}

export interface AdminUserInput {
  email?: string;
  password?: string;
  email_confirm?: boolean;
  user_metadata?: Json;
  app_metadata?: Json;
}

export function adminListUsers(
  ar: AuthRequest,
  o: { page: number; perPage: number },
): Promise<{ users: UserJson[]; total: number }> {
  requireAdmin(ar);
  return tx(ar, async (c) => {
    const r = await listUsers(c, o);
    return { users: r.users.map(userJson), total: r.total };
  });
}

export function adminCreateUser(ar: AuthRequest, b: AdminUserInput): Promise<UserJson> {
  requireAdmin(ar);
  return tx(ar, async (c, cfg) => {
    const user = await insertUser(c, {
      email: normaliseEmail(b.email),
      passwordHash:
        b.password === undefined ? null : await hashPassword(checkPassword(cfg, b.password)),
      confirmed: b.email_confirm === true,
      userMetadata: b.user_metadata,
      appMetadata: b.app_metadata,
    });
    return userJson(user);
  });
}

export function adminGetUser(ar: AuthRequest, id: string): Promise<UserJson> {
  requireAdmin(ar);
  return tx(ar, async (c) => userJson(await requireUser(c, requireUuid(id))));
}

export function adminUpdateUser(ar: AuthRequest, id: string, b: AdminUserInput): Promise<UserJson> {
  requireAdmin(ar);
  return tx(ar, async (c, cfg) => {
    await requireUser(c, requireUuid(id));
    const user = await updateUser(c, id, {
      email: b.email === undefined ? undefined : normaliseEmail(b.email),
      passwordHash:
        b.password === undefined ? undefined : await hashPassword(checkPassword(cfg, b.password)),
      confirmed: b.email_confirm === true ? true : undefined,
      userMetadata: b.user_metadata,
      appMetadata: b.app_metadata,
    });
    return userJson(user);
  });
}

/** Deletes the user with its identities, sessions and tokens (ON DELETE CASCADE). */
export function adminDeleteUser(ar: AuthRequest, id: string): Promise<UserJson> {
  requireAdmin(ar);
  return tx(ar, async (c) => {
    const user = await requireUser(c, requireUuid(id));
    await c.query("DELETE FROM auth.users WHERE id = $1", [id]);
    return userJson(user);
  });
}

/** bough's own: this branch's auth settings (config rows, merged into the parent as config). */
export function adminGetConfig(ar: AuthRequest): Promise<Json> {
  requireAdmin(ar);
  return tx(ar, async (c) => configJson(await readConfig(c)));
}

export function adminPutConfig(
  ar: AuthRequest,
  patch: Partial<Record<ConfigKey, unknown>>,
): Promise<Json> {
  requireAdmin(ar);
  return tx(ar, async (c) => {
    await writeConfig(c, patch);
    return configJson(await readConfig(c));
  });
}

/** bough's own: OAuth provider rows (config, merged by provider; client secrets never merged). */
export function adminListProviders(ar: AuthRequest): Promise<ProviderJson[]> {
  requireAdmin(ar);
  return tx(ar, (c) => listProviders(c));
}

export function adminPutProvider(
  ar: AuthRequest,
  provider: string,
  b: { enabled?: boolean; client_id?: string; client_secret?: string; redirect_uri?: string },
): Promise<ProviderJson> {
  requireAdmin(ar);
  return tx(ar, (c) =>
    putProvider(c, ar.jwtSecret, {
      provider,
      enabled: b.enabled,
      clientId: b.client_id,
      clientSecret: b.client_secret,
      redirectUri: b.redirect_uri,
    }),
  );
}
