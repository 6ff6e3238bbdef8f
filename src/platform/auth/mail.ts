import { createHash, randomBytes, randomInt } from "node:crypto";
import type pg from "pg";
import { queueMail } from "../email/outbox.ts";
import { renderTemplate, type TemplateType, templateOf } from "../email/templates.ts";
import { readConfig } from "./config.ts";
import type { AuthRequest } from "./context.ts";
import { authError } from "./errors.ts";
import type { UserRow } from "./users.ts";

/** What a one-time token in a mail lets its holder do. */
export type OtpType = "signup" | "recovery" | "magiclink";

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
const otpHash = (userId: string, code: string) => sha256(`${userId}:${code}`);
const TOKEN_TTL_MINUTES = 60;
/** Wrong 6-digit codes tolerated before the user's pending codes are voided. */
const MAX_OTP_FAILURES = 5;

// The email template each kind of token mail is rendered from.
const TEMPLATES: Record<OtpType, TemplateType> = {
  signup: "confirmation",
  recovery: "recovery",
  magiclink: "magic_link",
};

/**
 * Sends a mail with a one-time link and a 6-digit code: the token is stored hashed in
 * auth.one_time_tokens, the mail rendered from the branch's template and queued in
 * email.outbox, in the request's transaction. The email service delivers it after the
 * commit, only where SMTP was set on this branch (a branch never mails its parent's users).
 */
export async function sendTokenMail(
  c: pg.ClientBase,
  ar: AuthRequest,
  o: { user: UserRow; type: OtpType; redirectTo: string },
): Promise<void> {
  const token = randomBytes(24).toString("base64url");
  const code = String(randomInt(0, 1_000_000)).padStart(6, "0");
  await c.query("DELETE FROM auth.one_time_tokens WHERE user_id = $1 AND token_type = $2", [
    o.user.id,
    o.type,
  ]);
  await c.query(
    `INSERT INTO auth.one_time_tokens (user_id, token_type, token_hash, otp_hash, expires_at)
     VALUES ($1, $2, $3, $4, now() + make_interval(mins => $5))`,
    [o.user.id, o.type, sha256(token), otpHash(o.user.id, code), TOKEN_TTL_MINUTES],
  );
  const link = `${ar.apiUrl}/auth/v1/verify?${new URLSearchParams({
    token,
    type: o.type,
    redirect_to: o.redirectTo,
  })}`;
  const column = o.type === "recovery" ? "recovery_sent_at" : "confirmation_sent_at";
  await c.query(`UPDATE auth.users SET ${column} = now() WHERE id = $1`, [o.user.id]);
  const template = TEMPLATES[o.type];
  const email = String(o.user.email);
  const mail = renderTemplate(await templateOf(c, template), {
    ConfirmationURL: link,
    Token: code,
    // What verifyOtp({ token_hash }) takes (stored hashed, as GoTrue's TokenHash is).
    TokenHash: token,
    SiteURL: (await readConfig(c)).siteUrl,
    Email: email,
    RedirectTo: o.redirectTo,
    Data: o.user.raw_user_meta_data,
  });
  await queueMail(c, { to: email, template, mail, branchId: ar.branch.id });
  ar.mailQueued?.();
}

/**
 * Spends a one-time token: by the link's token (`token_hash`), or by email + 6-digit code.
 * `email` type codes are the magic link's or the signup confirmation's. Returns the user id.
 */
export async function spendToken(
  c: pg.ClientBase,
  o: { type: string; tokenHash?: string; email?: string; code?: string },
): Promise<{ userId: string; type: OtpType; failed?: boolean }> {
  const types = o.type === "email" ? ["magiclink", "signup"] : [o.type];
  const invalid = authError(403, "otp_expired", "Email link is invalid or has expired");
  let row: { id: string; user_id: string; token_type: OtpType } | undefined;
  if (o.tokenHash) {
    const r = await c.query(
      `DELETE FROM auth.one_time_tokens WHERE token_hash = $1 AND token_type = ANY($2) AND expires_at > now()
       RETURNING id, user_id, token_type`,
      [sha256(o.tokenHash), types],
    );
    row = r.rows[0];
  } else if (o.email && o.code) {
    const u = await c.query<{ id: string }>("SELECT id FROM auth.users WHERE lower(email) = $1", [
      o.email.toLowerCase(),
    ]);
    const userId = u.rows[0]?.id;
    if (!userId) throw invalid;
    const r = await c.query(
      `DELETE FROM auth.one_time_tokens WHERE user_id = $1 AND otp_hash = $2 AND token_type = ANY($3)
         AND expires_at > now() RETURNING id, user_id, token_type`,
      [userId, otpHash(userId, o.code), types],
    );
    row = r.rows[0];
    if (!row) {
      // Six digits are guessable: a few wrong tries void every pending code of the user.
      await c.query(
        `UPDATE auth.one_time_tokens SET failed_attempts = failed_attempts + 1 WHERE user_id = $1;`,
        [userId],
      );
      await c.query(
        "DELETE FROM auth.one_time_tokens WHERE user_id = $1 AND failed_attempts >= $2",
        [userId, MAX_OTP_FAILURES],
      );
      return { userId, type: "magiclink", failed: true };
    }
  } else {
    throw authError(
      400,
      "validation_failed",
      "Verify requires a token_hash, or an email and a token",
    );
  }
  if (!row) throw invalid;
  return { userId: row.user_id, type: row.token_type };
}
