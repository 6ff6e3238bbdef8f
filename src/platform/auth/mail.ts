import { createHash, randomBytes, randomInt } from "node:crypto";
import type pg from "pg";
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

const SUBJECTS: Record<OtpType, string> = {
  signup: "Confirm your signup",
  recovery: "Reset your password",
  magiclink: "Your magic link",
};

/**
 * "Sends" a mail with a one-time link and a 6-digit code: the token is stored hashed in
 * auth.one_time_tokens, the mail written to email.outbox (delivered by the email service
 * where the branch configured SMTP; a branch never mails its parent's users by itself).
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
  await c.query(
    "INSERT INTO email.outbox (to_address, template, subject, body) VALUES ($1, $2, $3, $4)",
    [
      o.user.email,
      o.type,
      SUBJECTS[o.type],
      `Follow this link: ${link}\n\nOr enter this code: ${code}\n`,
    ],
  );
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
