import type pg from "pg";
import { type AuthConfig, readConfig, safeRedirect } from "./config.ts";
import type { AuthRequest } from "./context.ts";
import { AuthError, authError } from "./errors.ts";
import { type OtpType, sendTokenMail, spendToken } from "./mail.ts";
import { hashPassword, verifyPassword } from "./password.ts";
import type { SessionJson, SettingsJson, UserJson } from "./schemas.ts";
import { endSessions, refreshSession, requireSession, startSession } from "./sessions.ts";
import {
  insertUser,
  normaliseEmail,
  requireUser,
  updateUser,
  userByEmail,
  userJson,
} from "./users.ts";

type Json = Record<string, unknown>;

/** Runs fn in one service transaction; an error it returns (not throws) is raised after commit. */
export async function tx<T>(
  ar: AuthRequest,
  fn: (c: pg.ClientBase, cfg: AuthConfig) => Promise<T | { error: AuthError }>,
): Promise<T> {
  const out = await ar.db.asService(async (c) => fn(c, await readConfig(c)));
  if (out && typeof out === "object" && "error" in out && out.error instanceof AuthError) {
    throw out.error;
  }
  return out as T;
}

/** 422 weak_password below the configured minimum length, as GoTrue words it. */
export function checkPassword(cfg: AuthConfig, password: unknown): string {
  if (typeof password !== "string" || password.length < cfg.passwordMinLength) {
    throw Object.assign(
      authError(
        422,
        "weak_password",
        `Password should be at least ${cfg.passwordMinLength} characters.`,
      ),
      { reasons: ["length"] },
    );
  }
  return password;
}

/** POST /signup: a session at once when mail confirmation is off, else a confirmation mail. */
export function signUp(
  ar: AuthRequest,
  b: { email: string; password: string; data?: Json; redirectTo?: string },
): Promise<SessionJson | UserJson> {
  return tx(ar, async (c, cfg) => {
    if (cfg.disableSignup)
      throw authError(422, "signup_disabled", "Signups not allowed for this instance");
    const email = normaliseEmail(b.email);
    const password = checkPassword(cfg, b.password);
    if (await userByEmail(c, email))
      throw authError(422, "user_already_exists", "User already registered");
    const user = await insertUser(c, {
      email,
      passwordHash: await hashPassword(password),
      confirmed: cfg.mailerAutoconfirm,
      userMetadata: b.data,
    });
    if (cfg.mailerAutoconfirm) return startSession(c, ar, user);
    await sendTokenMail(c, ar, {
      user,
      type: "signup",
      redirectTo: safeRedirect(cfg, b.redirectTo),
    });
    return userJson(await requireUser(c, user.id));
  });
}

/** POST /token?grant_type=password. */
export function passwordGrant(
  ar: AuthRequest,
  b: { email?: string; password?: string },
): Promise<SessionJson> {
  return tx(ar, async (c) => {
    const invalid = authError(400, "invalid_credentials", "Invalid login credentials");
    if (!b.email || !b.password) throw invalid;
    const user = await userByEmail(c, normaliseEmail(b.email));
    const ok = await verifyPassword(b.password, user?.encrypted_password ?? null);
    if (!user || !ok) throw invalid;
    if (!user.email_confirmed_at)
      throw authError(400, "email_not_confirmed", "Email not confirmed");
    return startSession(c, ar, user);
  });
}

/** POST /token?grant_type=refresh_token (rotation, reuse revokes the session). */
export function refreshGrant(ar: AuthRequest, b: { refresh_token?: string }): Promise<SessionJson> {
  return tx<SessionJson>(ar, async (c) => {
    if (!b.refresh_token) {
      throw authError(400, "validation_failed", "refresh_token required");
    }
    const r = await refreshSession(c, ar, b.refresh_token);
    return r.error ? { error: r.error } : (r.session as SessionJson);
  });
}

export function getUser(ar: AuthRequest): Promise<UserJson> {
  return tx(ar, async (c) => {
    const { userId } = await requireSession(c, ar);
    return userJson(await requireUser(c, userId));
  });
}

/** PUT /user: email, password, user metadata. */
export function putUser(
  ar: AuthRequest,
  b: { email?: string; password?: string; data?: Json },
): Promise<UserJson> {
  return tx(ar, async (c, cfg) => {
    const { userId } = await requireSession(c, ar);
    const user = await updateUser(c, userId, {
      email: b.email === undefined ? undefined : normaliseEmail(b.email),
      passwordHash:
        b.password === undefined ? undefined : await hashPassword(checkPassword(cfg, b.password)),
      userMetadata: b.data,
    });
    return userJson(user);
  });
}

export function logout(ar: AuthRequest, scope: "global" | "local" | "others"): Promise<void> {
  return tx(ar, async (c) => {
    const s = await requireSession(c, ar);
    await endSessions(c, { ...s, scope });
  });
}

/** POST /recover: a reset mail if the address is known; the answer never says whether it is. */
export function recover(ar: AuthRequest, b: { email: string; redirectTo?: string }): Promise<void> {
  return tx(ar, async (c, cfg) => {
    const user = await userByEmail(c, normaliseEmail(b.email));
    if (user) {
      await sendTokenMail(c, ar, {
        user,
        type: "recovery",
        redirectTo: safeRedirect(cfg, b.redirectTo),
      });
    }
  });
}

/** POST /otp and /magiclink: a magic link (and code), creating the user when allowed. */
export function sendOtp(
  ar: AuthRequest,
  b: { email: string; createUser?: boolean; data?: Json; redirectTo?: string },
): Promise<void> {
  return tx(ar, async (c, cfg) => {
    const email = normaliseEmail(b.email);
    let user = await userByEmail(c, email);
    if (!user) {
      if (b.createUser === false || cfg.disableSignup) {
        throw authError(422, "otp_disabled", "Signups not allowed for otp");
      }
      user = await insertUser(c, {
        email,
        passwordHash: null,
        confirmed: false,
        userMetadata: b.data,
      });
    }
    await sendTokenMail(c, ar, {
      user,
      type: "magiclink",
      redirectTo: safeRedirect(cfg, b.redirectTo),
    });
  });
}

/** POST/GET /verify: spends a mailed token, confirms the address, starts a session. */
export function verify(
  ar: AuthRequest,
  b: { type: string; token_hash?: string; token?: string; email?: string; redirectTo?: string },
): Promise<{ session: SessionJson; type: OtpType; redirectTo: string }> {
  return tx<{ session: SessionJson; type: OtpType; redirectTo: string }>(ar, async (c, cfg) => {
    const byCode = b.email !== undefined;
    const spent = await spendToken(c, {
      type: b.type,
      tokenHash: byCode ? undefined : (b.token_hash ?? b.token),
      email: b.email,
      code: byCode ? b.token : undefined,
    });
    if (spent.failed)
      return { error: authError(403, "otp_expired", "Token has expired or is invalid") };
    const user = await updateUser(c, spent.userId, { confirmed: true });
    return {
      session: await startSession(c, ar, user),
      type: spent.type,
      redirectTo: safeRedirect(cfg, b.redirectTo),
    };
  });
}

/** GET /settings, GoTrue's shape: which sign-in methods this branch offers. */
export function settings(ar: AuthRequest): Promise<SettingsJson> {
  return tx(ar, async (c, cfg) => {
    const p = await c.query<{ provider: string; enabled: boolean }>(
      "SELECT provider, enabled FROM auth.oauth_providers ORDER BY provider",
    );
    return {
      external: {
        email: true,
        phone: false,
        ...Object.fromEntries(p.rows.map((r) => [r.provider, r.enabled])),
      },
      disable_signup: cfg.disableSignup,
      mailer_autoconfirm: cfg.mailerAutoconfirm,
      phone_autoconfirm: false,
      sms_provider: "",
      saml_enabled: false,
    };
  });
}
