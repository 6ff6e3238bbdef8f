import type pg from "pg";
import type { RenderedMail, TemplateType } from "./templates.ts";

/** An outbox row as `bough email outbox --json` and GET /email/v1/outbox show it. */
export interface OutboxItem {
  id: number;
  to: string;
  template: string;
  subject: string;
  text: string;
  html: string | null;
  createdAt: string;
  delivered: boolean;
  deliveredAt: string | null;
  /** pending (to deliver), delivered, held (this branch does not send), failed (gave up). */
  status: string;
  /** Why it was not (yet) delivered. */
  error: string | null;
  /** Queued on another branch (came with the clone): this branch never delivers it. */
  inherited: boolean;
}

/** Queues a rendered mail; the deliverer picks it up after the request commits. */
export async function queueMail(
  c: pg.ClientBase,
  o: { to: string; template: TemplateType; mail: RenderedMail; branchId: number },
): Promise<void> {
  await c.query(
    `INSERT INTO email.outbox (to_address, template, subject, body, html, queued_branch)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [o.to, o.template, o.mail.subject, o.mail.text, o.mail.html, o.branchId],
  );
}

export async function listOutbox(
  c: pg.ClientBase,
  o: { branchId: number; limit?: number },
): Promise<OutboxItem[]> {
  const r = await c.query<{
    id: string;
    to_address: string;
    template: string;
    subject: string;
    body: string;
    html: string | null;
    created_at: Date;
    sent_at: Date | null;
    status: string;
    error: string | null;
    queued_branch: string | null;
  }>(
    `SELECT id, to_address, template, subject, body, html, created_at, sent_at, status, error,
            queued_branch
       FROM (SELECT * FROM email.outbox ORDER BY id DESC LIMIT $1) newest ORDER BY id`,
    [o.limit ?? 100],
  );
  return r.rows.map((row) => ({
    id: Number(row.id),
    to: row.to_address,
    template: row.template,
    subject: row.subject,
    text: row.body,
    html: row.html,
    createdAt: row.created_at.toISOString(),
    delivered: row.status === "delivered",
    deliveredAt: row.sent_at?.toISOString() ?? null,
    status: row.status,
    error: row.error,
    inherited: row.queued_branch === null || Number(row.queued_branch) !== o.branchId,
  }));
}
