import { listBranches } from "../control/branches.ts";
import { listProjects } from "../control/projects.ts";
import { BoughError } from "../core/errors.ts";
import type { Branch, Project } from "../core/types.ts";
import {
  type DeliveryResult,
  deliverPending,
  type InTransaction,
} from "../platform/email/deliver.ts";
import { listOutbox, type OutboxItem } from "../platform/email/outbox.ts";
import {
  NOT_ARMED,
  type SmtpSettings,
  setSmtp,
  smtpSettings,
  unsetSmtp,
} from "../platform/email/smtp.ts";
import {
  listTemplates,
  requireTemplateType,
  setTemplate,
  type TemplateRow,
} from "../platform/email/templates.ts";
import { audited } from "./audited.ts";
import { branchUrl, isRunning } from "./branch-cluster.ts";
import { clientTx, withPlatformClient } from "./branch-service.ts";
import type { Ctx } from "./context.ts";
import { exclusive } from "./exclusive.ts";
import { requireBranch, requireProject } from "./lookup.ts";
import { projectSecretKey } from "./secrets.ts";
import { withClient } from "./sql.ts";

interface On {
  project: string;
  branch: string;
}

/** Runs fn on the branch's database (started if needed), under the operation lock. */
function onBranch<T>(
  ctx: Ctx,
  o: On,
  fn: (s: { project: Project; branch: Branch }, inTx: InTransaction) => Promise<T>,
): Promise<T> {
  return exclusive(ctx, async () => {
    const project = requireProject(ctx, o.project);
    const branch = requireBranch(ctx, project, o.branch);
    const inTx: InTransaction = (f) => withPlatformClient(ctx, project, branch, f);
    return fn({ project, branch }, inTx);
  });
}

/**
 * Delivers a branch's pending mail (see deliverPending): called by the server right after a
 * request that queued mail commits, and by the `bough up` worker for retries.
 */
export function deliverBranchMail(
  ctx: Ctx,
  project: Project,
  branch: Branch,
  inTx: InTransaction,
): Promise<DeliveryResult> {
  return deliverPending(inTx, { key: projectSecretKey(ctx, project), branchId: branch.id });
}

/**
 * `bough up`'s mail worker: every intervalMs, delivers the pending mail of the project's
 * running branches (a stopped branch is not started for it). Returns stop().
 */
export function startMailWorker(ctx: Ctx, o: { project: string; intervalMs?: number }): () => void {
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      const project = listProjects(ctx).find((p) => p.name === o.project);
      for (const branch of project ? listBranches(ctx.db, project.id) : []) {
        if (!project || branch.state !== "ready" || !isRunning(ctx, project, branch)) continue;
        await withClient(branchUrl(project, branch), async (c) => {
          // A branch whose platform schema predates the email service has nothing to send.
          const has = await c.query<{ ok: boolean }>(
            "SELECT to_regclass('email.smtp') IS NOT NULL AS ok",
          );
          if (has.rows[0].ok) await deliverBranchMail(ctx, project, branch, clientTx(c));
        }).catch(() => {});
      }
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void tick(), o.intervalMs ?? 30_000);
  timer.unref();
  void tick();
  return () => clearInterval(timer);
}

export function emailTemplates(ctx: Ctx, o: On): Promise<TemplateRow[]> {
  return onBranch(ctx, o, (_s, inTx) => inTx(listTemplates));
}

async function emailTemplateSetNow(
  ctx: Ctx,
  o: On & { type: string; subject: string; body: string },
): Promise<TemplateRow> {
  const type = requireTemplateType(o.type);
  return onBranch(ctx, o, async (_s, inTx) => {
    await inTx((c) => setTemplate(c, { type, subject: o.subject, body: o.body }));
    return { type, subject: o.subject, body: o.body };
  });
}

/** `bough email smtp show --json`: never the password. */
export interface SmtpShow {
  branch: string;
  smtp: SmtpSettings | null;
  /** Whether this branch delivers, and if not why. */
  delivers: boolean;
  reason: string | null;
}

const show = (branch: Branch, smtp: SmtpSettings | null): SmtpShow => ({
  branch: branch.name,
  smtp,
  delivers: smtp?.armed === true,
  reason: smtp?.armed ? null : NOT_ARMED,
});

function emailSmtpSetNow(
  ctx: Ctx,
  o: On & {
    host: string;
    port: number;
    user?: string;
    password?: string;
    sender?: string;
    secure?: boolean;
  },
): Promise<SmtpShow> {
  if (!o.host || !Number.isInteger(o.port) || o.port < 1 || o.port > 65535) {
    throw new BoughError(
      "INVALID_INPUT",
      "SMTP needs a host and a port (1-65535)",
      "pass --host H --port P",
    );
  }
  if (o.password !== undefined && o.user === undefined) {
    throw new BoughError("INVALID_INPUT", "an SMTP password needs a user", "pass --user U too");
  }
  return onBranch(ctx, o, async ({ project, branch }, inTx) => {
    const key = projectSecretKey(ctx, project);
    const smtp = await inTx((c) => setSmtp(c, key, { ...o, branchId: branch.id }));
    return show(branch, smtp);
  });
}

export function emailSmtpShow(ctx: Ctx, o: On): Promise<SmtpShow> {
  return onBranch(ctx, o, async ({ branch }, inTx) =>
    show(branch, await inTx((c) => smtpSettings(c, branch.id))),
  );
}

function emailSmtpUnsetNow(ctx: Ctx, o: On): Promise<{ branch: string; removed: boolean }> {
  return onBranch(ctx, o, async ({ branch }, inTx) => {
    const removed = await inTx(unsetSmtp);
    return { branch: branch.name, removed };
  });
}

function emailOutboxNow(ctx: Ctx, o: On & { limit?: number }): Promise<OutboxItem[]> {
  return onBranch(ctx, o, ({ branch }, inTx) =>
    inTx((c) => listOutbox(c, { branchId: branch.id, limit: o.limit })),
  );
}

// The template's type and subject are recorded (its body is config, kept by the row); SMTP
// without its password, only whether one was given.
export const emailTemplateSet = audited("email.template.set", emailTemplateSetNow, {
  args: (o) => ({ type: o.type, subject: o.subject }),
});
export const emailSmtpSet = audited("email.smtp.set", emailSmtpSetNow, {
  args: (o) => ({
    host: o.host,
    port: o.port,
    user: o.user ?? null,
    password: o.password !== undefined,
  }),
});
export const emailSmtpUnset = audited("email.smtp.unset", emailSmtpUnsetNow);
/** Reading the outbox is audited too: its mail carries sign-in and recovery links. */
export const emailOutbox = audited("email.outbox.read", emailOutboxNow);
