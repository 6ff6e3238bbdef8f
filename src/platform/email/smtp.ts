import type pg from "pg";
import { type SecretKey, seal, unseal } from "../secrets/crypto.ts";

/** A branch's SMTP settings as shown: never the password. */
export interface SmtpSettings {
  host: string;
  port: number;
  user: string | null;
  sender: string | null;
  secure: boolean;
  hasPassword: boolean;
  /** Set on this branch: only then does it deliver. */
  armed: boolean;
}

interface Row {
  host: string;
  port: number;
  username: string | null;
  sender: string | null;
  secure: boolean;
  password_encrypted: string | null;
  armed_branch: string | null;
}

/**
 * The password is bound to the branch it was set on and to the server it is for: settings
 * changed by a merge, or a row copied onto a branch and edited there, cannot send it to
 * another server (decryption fails; set the password again where it is meant to be used).
 */
const sealedAs = (r: { armedBranch: number; host: string; port: number; user: string | null }) => ({
  branchId: r.armedBranch,
  name: `email.smtp:${r.host}:${r.port}:${r.user ?? ""}`,
  productionOnly: false,
});

const toSettings = (r: Row, branchId: number): SmtpSettings => ({
  host: r.host,
  port: r.port,
  user: r.username,
  sender: r.sender,
  secure: r.secure,
  hasPassword: r.password_encrypted !== null,
  armed: r.armed_branch !== null && Number(r.armed_branch) === branchId,
});

async function readRow(c: pg.ClientBase): Promise<Row | null> {
  const r = await c.query<Row>(
    "SELECT host, port, username, sender, secure, password_encrypted, armed_branch FROM email.smtp",
  );
  return r.rows[0] ?? null;
}

export async function smtpSettings(
  c: pg.ClientBase,
  branchId: number,
): Promise<SmtpSettings | null> {
  const row = await readRow(c);
  return row ? toSettings(row, branchId) : null;
}

/** Sets the branch's SMTP settings and arms them on this branch. */
export async function setSmtp(
  c: pg.ClientBase,
  k: SecretKey,
  o: {
    branchId: number;
    host: string;
    port: number;
    user?: string;
    password?: string;
    sender?: string;
    secure?: boolean;
  },
): Promise<SmtpSettings> {
  const user = o.user ?? null;
  const sealed =
    o.password === undefined
      ? null
      : seal(
          k,
          sealedAs({ armedBranch: o.branchId, host: o.host, port: o.port, user }),
          o.password,
        );
  await c.query(
    `INSERT INTO email.smtp (id, host, port, username, sender, secure, password_encrypted, armed_branch)
     VALUES (1, $1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (id) DO UPDATE SET host = EXCLUDED.host, port = EXCLUDED.port,
       username = EXCLUDED.username, sender = EXCLUDED.sender, secure = EXCLUDED.secure,
       password_encrypted = EXCLUDED.password_encrypted, armed_branch = EXCLUDED.armed_branch`,
    [o.host, o.port, user, o.sender ?? null, o.secure ?? o.port === 465, sealed, o.branchId],
  );
  return toSettings((await readRow(c)) as Row, o.branchId);
}

export async function unsetSmtp(c: pg.ClientBase): Promise<boolean> {
  const r = await c.query("DELETE FROM email.smtp");
  return (r.rowCount ?? 0) > 0;
}

/** What delivery needs: the settings when armed on this branch, else why it does not send. */
export type Transport =
  | {
      ok: true;
      host: string;
      port: number;
      secure: boolean;
      user: string | null;
      password: string | null;
      sender: string;
    }
  | { ok: false; reason: string; final: boolean };

export const NOT_ARMED = "not delivered: SMTP not set on this branch";

export async function transportOf(
  c: pg.ClientBase,
  k: SecretKey,
  branchId: number,
): Promise<Transport> {
  const row = await readRow(c);
  if (!row || row.armed_branch === null || Number(row.armed_branch) !== branchId) {
    return { ok: false, reason: NOT_ARMED, final: true };
  }
  let password: string | null = null;
  if (row.password_encrypted !== null) {
    password = unseal(
      k,
      sealedAs({ armedBranch: branchId, host: row.host, port: row.port, user: row.username }),
      row.password_encrypted,
    );
    if (password === null) {
      return {
        ok: false,
        reason:
          "not delivered: the SMTP password does not match these settings; set it again with `bough email smtp set`",
        final: false,
      };
    }
  }
  return {
    ok: true,
    host: row.host,
    port: row.port,
    secure: row.secure,
    user: row.username,
    password,
    sender: row.sender ?? `no-reply@${row.host}`,
  };
}
