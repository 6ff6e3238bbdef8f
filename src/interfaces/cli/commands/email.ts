import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import {
  emailOutbox,
  emailSmtpSet,
  emailSmtpShow,
  emailSmtpUnset,
  emailTemplateSet,
  emailTemplates,
  type SmtpShow,
} from "../../../branches/email.ts";
import { BoughError } from "../../../core/errors.ts";
import { branchOrCurrent, type Session, withSession } from "../session.ts";
import { readSecretStdin } from "../stdin.ts";

const BRANCH = ["--branch <name>", "branch (default: the current one)"] as const;

function printSmtp(s: Session, r: SmtpShow): void {
  if (!r.smtp) s.out.line(`${r.branch}: no SMTP settings (${r.reason})`);
  else {
    const m = r.smtp;
    s.out.line(
      `${r.branch}: ${m.host}:${m.port}${m.secure ? " (TLS)" : ""} user ${m.user ?? "-"} sender ${m.sender ?? "-"} password ${m.hasPassword ? "set" : "none"}`,
    );
    s.out.line(r.delivers ? "delivers: set on this branch" : `${r.reason}`);
  }
}

export function registerEmail(program: Command): void {
  const email = program
    .command("email")
    .description("mail templates, SMTP settings and the outbox (a branch sends only if set on it)");

  const templates = email.command("templates").description("auth mail templates (config, merged)");
  templates
    .command("list")
    .description("the branch's templates")
    .option(...BRANCH)
    .action(
      withSession(async (s, o: { branch?: string }) => {
        const list = await emailTemplates(s.ctx, {
          project: s.opts.project,
          branch: await branchOrCurrent(s, o.branch),
        });
        s.out.result(list, () =>
          s.out.table(
            ["Type", "Subject", "Body"],
            list.map((t) => [t.type, t.subject, `${t.body.length} chars`]),
          ),
        );
      }),
    );
  templates
    .command("set <type>")
    .description(
      "set a template: confirmation, magic_link, recovery, invite or email_change ({{ .ConfirmationURL }} ...)",
    )
    .requiredOption("--subject <text>", "subject line")
    .requiredOption("--body-file <file>", "HTML body")
    .option(...BRANCH)
    .action(
      withSession(
        async (s, type: string, o: { subject: string; bodyFile: string; branch?: string }) => {
          const body = await readFile(o.bodyFile, "utf8").catch((err: NodeJS.ErrnoException) => {
            throw new BoughError(
              "INVALID_INPUT",
              `cannot read ${o.bodyFile}: ${err.code ?? err.message}`,
              "pass the path of an HTML file",
            );
          });
          const branch = await branchOrCurrent(s, o.branch);
          const r = await emailTemplateSet(s.ctx, {
            project: s.opts.project,
            branch,
            type,
            subject: o.subject,
            body,
          });
          s.out.result(r, () => s.out.line(`set the ${r.type} template on ${branch}`));
        },
      ),
    );

  const smtp = email
    .command("smtp")
    .description("SMTP settings (the password is never shown or merged)");
  smtp
    .command("set")
    .description("set SMTP on a branch: it delivers from now on (only this branch)")
    .requiredOption("--host <host>", "SMTP server")
    .requiredOption("--port <n>", "port", Number)
    .option("--user <user>", "user name")
    .option("--password-stdin", "read the password from stdin")
    .option("--sender <address>", "From address")
    .option("--secure", "TLS from the start (default: on port 465)")
    .option(...BRANCH)
    .action(
      withSession(
        async (
          s,
          o: {
            host: string;
            port: number;
            user?: string;
            passwordStdin?: boolean;
            sender?: string;
            secure?: boolean;
            branch?: string;
          },
        ) => {
          const password = o.passwordStdin
            ? await readSecretStdin("SMTP password", "--password-stdin")
            : undefined;
          const r = await emailSmtpSet(s.ctx, {
            project: s.opts.project,
            branch: await branchOrCurrent(s, o.branch),
            host: o.host,
            port: o.port,
            user: o.user,
            password,
            sender: o.sender,
            secure: o.secure,
          });
          s.out.result(r, () => printSmtp(s, r));
        },
      ),
    );
  smtp
    .command("show")
    .description("the branch's SMTP settings and whether it delivers")
    .option(...BRANCH)
    .action(
      withSession(async (s, o: { branch?: string }) => {
        const r = await emailSmtpShow(s.ctx, {
          project: s.opts.project,
          branch: await branchOrCurrent(s, o.branch),
        });
        s.out.result(r, () => printSmtp(s, r));
      }),
    );
  smtp
    .command("unset")
    .description("remove the branch's SMTP settings: it stops delivering")
    .option(...BRANCH)
    .action(
      withSession(async (s, o: { branch?: string }) => {
        const r = await emailSmtpUnset(s.ctx, {
          project: s.opts.project,
          branch: await branchOrCurrent(s, o.branch),
        });
        s.out.result(r, () =>
          s.out.line(r.removed ? `removed SMTP settings of ${r.branch}` : `${r.branch} had none`),
        );
      }),
    );

  email
    .command("outbox")
    .description("every mail the branch sent or held, newest last")
    .option("--limit <n>", "how many (newest)", Number, 100)
    .option(...BRANCH)
    .action(
      withSession(async (s, o: { limit: number; branch?: string }) => {
        const list = await emailOutbox(s.ctx, {
          project: s.opts.project,
          branch: await branchOrCurrent(s, o.branch),
          limit: o.limit,
        });
        s.out.result(list, () =>
          s.out.table(
            ["To", "Subject", "Created", "Status"],
            list.map((m) => [
              m.to,
              m.subject,
              m.createdAt,
              m.delivered
                ? "delivered"
                : m.inherited
                  ? "queued on another branch (came with the clone): never sent from here"
                  : `${m.status}${m.error ? `: ${m.error}` : ""}`,
            ]),
          ),
        );
      }),
    );
}
