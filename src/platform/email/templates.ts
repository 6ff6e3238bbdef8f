import type pg from "pg";
import { BoughError } from "../../core/errors.ts";

/** The mails auth sends, named as Supabase's config.toml names them. */
export const TEMPLATE_TYPES = [
  "confirmation",
  "magic_link",
  "recovery",
  "invite",
  "email_change",
] as const;
export type TemplateType = (typeof TEMPLATE_TYPES)[number];

/** GoTrue's template variables (`{{ .ConfirmationURL }}`), plus `{{ .Data.<field> }}`. */
export interface TemplateVars {
  ConfirmationURL: string;
  Token: string;
  TokenHash: string;
  SiteURL: string;
  Email: string;
  NewEmail?: string;
  RedirectTo: string;
  Data?: Record<string, unknown>;
}

const VARIABLES = new Set([
  "ConfirmationURL",
  "Token",
  "TokenHash",
  "SiteURL",
  "Email",
  "NewEmail",
  "RedirectTo",
]);

// Supabase's default bodies, with the 6-digit code too (the OTP flows need it).
const codeLine = "<p>Or enter this code: {{ .Token }}</p>";
export const DEFAULT_TEMPLATES: Record<TemplateType, { subject: string; body: string }> = {
  confirmation: {
    subject: "Confirm Your Signup",
    body: `<h2>Confirm your signup</h2>\n<p>Follow this link to confirm your user:</p>\n<p><a href="{{ .ConfirmationURL }}">Confirm your mail</a></p>\n${codeLine}`,
  },
  magic_link: {
    subject: "Your Magic Link",
    body: `<h2>Magic Link</h2>\n<p>Follow this link to login:</p>\n<p><a href="{{ .ConfirmationURL }}">Log In</a></p>\n${codeLine}`,
  },
  recovery: {
    subject: "Reset Your Password",
    body: `<h2>Reset Password</h2>\n<p>Follow this link to reset the password for your user:</p>\n<p><a href="{{ .ConfirmationURL }}">Reset Password</a></p>\n${codeLine}`,
  },
  invite: {
    subject: "You have been invited",
    body: `<h2>You have been invited</h2>\n<p>You have been invited to create a user on {{ .SiteURL }}. Follow this link to accept the invite:</p>\n<p><a href="{{ .ConfirmationURL }}">Accept the invite</a></p>`,
  },
  email_change: {
    subject: "Confirm Email Change",
    body: `<h2>Confirm Change of Email</h2>\n<p>Follow this link to confirm the update of your email from {{ .Email }} to {{ .NewEmail }}:</p>\n<p><a href="{{ .ConfirmationURL }}">Change Email</a></p>`,
  },
};

const ACTION = /\{\{-?\s*\.([A-Za-z]+)((?:\.[A-Za-z0-9_]+)?)\s*-?\}\}/g;

export function requireTemplateType(type: string): TemplateType {
  if (!TEMPLATE_TYPES.includes(type as TemplateType)) {
    throw new BoughError(
      "INVALID_INPUT",
      `unknown email template "${type}"`,
      `templates: ${TEMPLATE_TYPES.join(", ")}`,
    );
  }
  return type as TemplateType;
}

/** Refuses a template using a variable (or Go template syntax) this renderer does not know. */
export function checkTemplate(text: string): void {
  for (const m of text.matchAll(ACTION)) {
    if (m[1] === "Data" ? false : !VARIABLES.has(m[1]) || m[2] !== "") {
      throw new BoughError(
        "INVALID_INPUT",
        `unknown template variable {{ .${m[1]}${m[2]} }}`,
        `variables: ${[...VARIABLES].map((v) => `{{ .${v} }}`).join(", ")}, {{ .Data.<field> }}`,
      );
    }
  }
  const rest = text.replace(ACTION, "");
  if (rest.includes("{{")) {
    throw new BoughError(
      "INVALID_INPUT",
      "template actions other than {{ .Variable }} are not supported",
      "use only {{ .Variable }} substitutions",
    );
  }
}

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch] ?? ch,
  );

function substitute(text: string, vars: TemplateVars, encode: (s: string) => string): string {
  return text.replace(ACTION, (_all, name: string, field: string) => {
    const raw =
      name === "Data"
        ? field
          ? vars.Data?.[field.slice(1)]
          : undefined
        : (vars as unknown as Record<string, unknown>)[name];
    return raw === undefined || raw === null ? "" : encode(String(raw));
  });
}

/**
 * The plain-text part, from the HTML template before substitution (so no value is ever
 * read as markup): links become `label: URL`, block ends become line breaks, tags go.
 */
function textTemplate(html: string): string {
  return html
    .replace(/<a\s[^>]*href="([^"]*)"[^>]*>(.*?)<\/a>/gis, "$2: $1")
    .replace(/<br\s*\/?>/gi, "\n")
    .replace(/<\/(p|h[1-6]|div|li|tr)>/gi, "\n")
    .replace(/<[^>]*>/g, "")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&")
    .split("\n")
    .map((l) => l.trim())
    .filter((l, i, all) => l !== "" || (i > 0 && all[i - 1] !== ""))
    .join("\n")
    .trim();
}

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

/** Renders a template: values HTML-escaped in the HTML part, as they are in the text part. */
export function renderTemplate(
  t: { subject: string; body: string },
  vars: TemplateVars,
): RenderedMail {
  return {
    subject: substitute(t.subject, vars, (s) => s.replace(/[\r\n]+/g, " ")),
    html: substitute(t.body, vars, escapeHtml),
    text: `${substitute(textTemplate(t.body), vars, (s) => s)}\n`,
  };
}

export interface TemplateRow {
  type: TemplateType;
  subject: string;
  body: string;
}

export async function listTemplates(c: pg.ClientBase): Promise<TemplateRow[]> {
  const r = await c.query<TemplateRow>(
    "SELECT type, subject, body FROM email.templates ORDER BY type",
  );
  return r.rows;
}

/** A branch's template of that type (its default when the row was deleted). */
export async function templateOf(
  c: pg.ClientBase,
  type: TemplateType,
): Promise<{ subject: string; body: string }> {
  const r = await c.query<TemplateRow>(
    "SELECT subject, body FROM email.templates WHERE type = $1",
    [type],
  );
  return r.rows[0] ?? DEFAULT_TEMPLATES[type];
}

export async function setTemplate(
  c: pg.ClientBase,
  o: { type: TemplateType; subject: string; body: string },
): Promise<void> {
  checkTemplate(o.subject);
  checkTemplate(o.body);
  await c.query(
    `INSERT INTO email.templates (type, subject, body) VALUES ($1, $2, $3)
     ON CONFLICT (type) DO UPDATE SET subject = EXCLUDED.subject, body = EXCLUDED.body`,
    [o.type, o.subject, o.body],
  );
}
