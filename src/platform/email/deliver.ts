import nodemailer from "nodemailer";
import type pg from "pg";
import type { SecretKey } from "../secrets/crypto.ts";
import { transportOf } from "./smtp.ts";

/** Failed sends retried (by the next delivery run) before a message is marked failed. */
const MAX_ATTEMPTS = 5;
const BATCH = 50;

/** Runs fn in one transaction on the branch's database (BranchDb.asService, or a CLI client). */
export type InTransaction = <T>(fn: (c: pg.ClientBase) => Promise<T>) => Promise<T>;

export interface DeliveryResult {
  delivered: number;
  held: number;
  failed: number;
}

/**
 * Delivers a branch's pending mail through its SMTP settings, if they were set on this
 * branch; otherwise marks it held with the reason (a branch never mails its parent's users
 * by inheritance). Rows are locked (SKIP LOCKED) so concurrent runs never send one twice.
 * A failure is recorded on the row, never thrown.
 */
export async function deliverPending(
  inTx: InTransaction,
  o: { key: SecretKey; branchId: number },
): Promise<DeliveryResult> {
  const total: DeliveryResult = { delivered: 0, held: 0, failed: 0 };
  for (;;) {
    const r = await inTx((c) => deliverBatch(c, o));
    total.delivered += r.delivered;
    total.held += r.held;
    total.failed += r.failed;
    // A full batch of failures stops the run: they are retried by the next one.
    if (r.delivered + r.held + r.failed < BATCH || r.delivered + r.held === 0) return total;
  }
}

async function deliverBatch(
  c: pg.ClientBase,
  o: { key: SecretKey; branchId: number },
): Promise<DeliveryResult> {
  const out: DeliveryResult = { delivered: 0, held: 0, failed: 0 };
  const pending = await c.query<{
    id: string;
    to_address: string;
    subject: string;
    body: string;
    html: string | null;
    attempts: number;
  }>(
    `SELECT id, to_address, subject, body, html, attempts FROM email.outbox
      WHERE status = 'pending' AND queued_branch = $2 ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
    [BATCH, o.branchId],
  );
  if (pending.rows.length === 0) return out;
  const ids = pending.rows.map((r) => r.id);
  const t = await transportOf(c, o.key, o.branchId);
  if (!t.ok) {
    // Not armed here: held for good. A password that no longer decrypts: retried (it may be set again).
    await c.query(
      `UPDATE email.outbox SET status = CASE WHEN $3 OR attempts + 1 >= $4 THEN
         CASE WHEN $3 THEN 'held' ELSE 'failed' END ELSE 'pending' END,
         error = $2, attempts = attempts + CASE WHEN $3 THEN 0 ELSE 1 END WHERE id = ANY($1)`,
      [ids, t.reason, t.final, MAX_ATTEMPTS],
    );
    if (t.final) out.held += ids.length;
    else out.failed += ids.length;
    return out;
  }
  const transporter = nodemailer.createTransport({
    host: t.host,
    port: t.port,
    secure: t.secure,
    auth: t.user && t.password !== null ? { user: t.user, pass: t.password } : undefined,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
  });
  try {
    for (const m of pending.rows) {
      try {
        await transporter.sendMail({
          from: t.sender,
          to: m.to_address,
          subject: m.subject,
          text: m.body,
          html: m.html ?? undefined,
        });
        await c.query(
          "UPDATE email.outbox SET status = 'delivered', sent_at = now(), error = NULL, attempts = attempts + 1 WHERE id = $1",
          [m.id],
        );
        out.delivered++;
      } catch (err) {
        // The server's answer, never the password (nodemailer does not echo it; scrubbed anyway).
        let reason = err instanceof Error ? err.message : String(err);
        if (t.password) reason = reason.split(t.password).join("***");
        await c.query(
          `UPDATE email.outbox SET attempts = attempts + 1, error = $2,
             status = CASE WHEN attempts + 1 >= $3 THEN 'failed' ELSE 'pending' END WHERE id = $1`,
          [m.id, `not delivered: ${reason}`, MAX_ATTEMPTS],
        );
        out.failed++;
      }
    }
  } finally {
    transporter.close();
  }
  return out;
}
