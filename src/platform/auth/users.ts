import type pg from "pg";
import { authError } from "./errors.ts";
import type { UserJson } from "./schemas.ts";

/** A row of auth.users with its identities, as the service reads it. */
export interface UserRow {
  id: string;
  aud: string;
  role: string;
  email: string | null;
  encrypted_password: string | null;
  email_confirmed_at: Date | null;
  confirmation_sent_at: Date | null;
  recovery_sent_at: Date | null;
  last_sign_in_at: Date | null;
  raw_app_meta_data: Record<string, unknown>;
  raw_user_meta_data: Record<string, unknown>;
  is_anonymous: boolean;
  created_at: Date;
  updated_at: Date;
  identities: Record<string, unknown>[];
}

const SELECT_USER = `
  SELECT u.*, coalesce((SELECT jsonb_agg(to_jsonb(i) ORDER BY i.created_at)
                          FROM auth.identities i WHERE i.user_id = u.id), '[]') AS identities
    FROM auth.users u`;

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Lower-cased and checked as GoTrue checks it (400 validation_failed otherwise). */
export function normaliseEmail(email: unknown): string {
  if (typeof email !== "string" || email.length > 255 || !EMAIL_RE.test(email.trim())) {
    throw authError(400, "validation_failed", "Unable to validate email address: invalid format");
  }
  return email.trim().toLowerCase();
}

export async function userById(c: pg.ClientBase, id: string): Promise<UserRow | null> {
  const r = await c.query<UserRow>(`${SELECT_USER} WHERE u.id = $1`, [id]);
  return r.rows[0] ?? null;
}

export async function userByEmail(c: pg.ClientBase, email: string): Promise<UserRow | null> {
  const r = await c.query<UserRow>(`${SELECT_USER} WHERE lower(u.email) = $1`, [email]);
  return r.rows[0] ?? null;
}

export async function requireUser(c: pg.ClientBase, id: string): Promise<UserRow> {
  const user = await userById(c, id);
  if (!user) throw authError(404, "user_not_found", "User not found");
  return user;
}

export async function listUsers(
  c: pg.ClientBase,
  o: { page: number; perPage: number },
): Promise<{ users: UserRow[]; total: number }> {
  const r = await c.query<UserRow>(
    `${SELECT_USER} ORDER BY u.created_at, u.id LIMIT $1 OFFSET $2`,
    [o.perPage, (o.page - 1) * o.perPage],
  );
  const t = await c.query<{ n: string }>("SELECT count(*) AS n FROM auth.users");
  return { users: r.rows, total: Number(t.rows[0].n) };
}

/** Inserts a user with its email identity; 422 email_exists when the address is taken. */
export async function insertUser(
  c: pg.ClientBase,
  o: {
    email: string;
    passwordHash: string | null;
    confirmed: boolean;
    userMetadata?: Record<string, unknown>;
    appMetadata?: Record<string, unknown>;
  },
): Promise<UserRow> {
  if (await userByEmail(c, o.email)) {
    throw authError(
      422,
      "email_exists",
      "A user with this email address has already been registered",
    );
  }
  const app = { provider: "email", providers: ["email"], ...o.appMetadata };
  const r = await c.query<{ id: string }>(
    `INSERT INTO auth.users (email, encrypted_password, email_confirmed_at, raw_app_meta_data, raw_user_meta_data)
     VALUES ($1, $2, CASE WHEN $3 THEN now() END, $4, $5) RETURNING id`,
    [o.email, o.passwordHash, o.confirmed, app, o.userMetadata ?? {}],
  );
  const id = r.rows[0].id;
  await c.query(
    `INSERT INTO auth.identities (user_id, provider, provider_id, identity_data)
     VALUES ($1::uuid, 'email', $1::text, jsonb_build_object('sub', $1::text, 'email', $2::text,
             'email_verified', $3::boolean, 'phone_verified', false))`,
    [id, o.email, o.confirmed],
  );
  return requireUser(c, id);
}

/** Applies a partial update; fields left undefined are kept. */
export async function updateUser(
  c: pg.ClientBase,
  id: string,
  o: {
    email?: string;
    passwordHash?: string;
    confirmed?: boolean;
    userMetadata?: Record<string, unknown>;
    appMetadata?: Record<string, unknown>;
  },
): Promise<UserRow> {
  if (o.email !== undefined) {
    const other = await userByEmail(c, o.email);
    if (other && other.id !== id) {
      throw authError(
        422,
        "email_exists",
        "A user with this email address has already been registered",
      );
    }
  }
  await c.query(
    `UPDATE auth.users SET
       email = coalesce($2, email),
       encrypted_password = coalesce($3, encrypted_password),
       email_confirmed_at = CASE WHEN $4::boolean IS NULL THEN email_confirmed_at
                                 WHEN $4 THEN coalesce(email_confirmed_at, now()) END,
       raw_user_meta_data = raw_user_meta_data || coalesce($5::jsonb, '{}'),
       raw_app_meta_data = raw_app_meta_data || coalesce($6::jsonb, '{}'),
       updated_at = now()
     WHERE id = $1`,
    [
      id,
      o.email ?? null,
      o.passwordHash ?? null,
      o.confirmed ?? null,
      o.userMetadata ?? null,
      o.appMetadata ?? null,
    ],
  );
  if (o.email !== undefined) {
    await c.query(
      `UPDATE auth.identities SET identity_data = identity_data || jsonb_build_object('email', $2::text), updated_at = now()
        WHERE user_id = $1 AND provider = 'email'`,
      [id, o.email],
    );
  }
  return requireUser(c, id);
}

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

/** The user as GoTrue returns it (supabase-js' User type). */
export function userJson(u: UserRow): UserJson {
  return {
    id: u.id,
    aud: u.aud,
    role: u.role,
    email: u.email ?? "",
    email_confirmed_at: iso(u.email_confirmed_at) ?? undefined,
    phone: "",
    confirmation_sent_at: iso(u.confirmation_sent_at) ?? undefined,
    recovery_sent_at: iso(u.recovery_sent_at) ?? undefined,
    confirmed_at: iso(u.email_confirmed_at) ?? undefined,
    last_sign_in_at: iso(u.last_sign_in_at) ?? undefined,
    app_metadata: u.raw_app_meta_data,
    user_metadata: u.raw_user_meta_data,
    identities: u.identities.map((i) => ({
      identity_id: i.id,
      id: i.provider_id,
      user_id: i.user_id,
      identity_data: i.identity_data,
      provider: i.provider,
      last_sign_in_at: iso(i.last_sign_in_at as string | null),
      created_at: iso(i.created_at as string),
      updated_at: iso(i.updated_at as string),
      email: (i.identity_data as { email?: string }).email,
    })),
    created_at: new Date(u.created_at).toISOString(),
    updated_at: new Date(u.updated_at).toISOString(),
    is_anonymous: u.is_anonymous,
  };
}
