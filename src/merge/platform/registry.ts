import type { Row } from "../diff/changes.ts";

/** The platform services whose config tables a merge describes in words, in preview order. */
export const PLATFORM_LAYERS = [
  "auth",
  "storage",
  "functions",
  "email",
  "schedules",
  "realtime",
  "webhooks",
  "secrets",
  "masking",
] as const;
export type PlatformLayer = (typeof PLATFORM_LAYERS)[number];

/** How a reviewer reads the rows of one platform config table. */
export interface PlatformTable {
  layer: PlatformLayer;
  /** What one row is: `function`, `template`, `bucket`. */
  noun: string;
  /** One row, no key worth naming: the subject is the noun alone ("SMTP settings"). */
  single?: boolean;
  /** Each row is one setting named by its key, its value never spelled out: "setting site_url changed". */
  settings?: boolean;
  /** jsonb `{path: source}` columns, described file by file as the row's source. */
  files?: string[];
  /** Text columns said to have changed (with line counts when multi-line), values not repeated. */
  prose?: string[];
  /** Word in front of a changed column ("setting private false → true"). */
  columnWord?: string;
  /** Columns whose values are never spelled out, only said to have changed (defence in depth: excluded columns never reach a row). */
  hidden?: string[];
  /** No value of this table is ever spelled out (secrets). */
  secret?: boolean;
  /** Facts said of a new row, from its visible values. */
  added?: (row: Row) => string[];
}

const quoted = (v: string | null | undefined) => (v == null ? "none" : JSON.stringify(v));

/**
 * The platform config tables bough's services register (`bough.table_policies`), by
 * "schema.table". A table not here is merged and shown the generic way.
 */
export const PLATFORM_TABLES: Record<string, PlatformTable> = {
  "auth.config": { layer: "auth", noun: "setting", settings: true },
  "auth.oauth_providers": {
    layer: "auth",
    noun: "OAuth provider",
    hidden: ["client_secret_encrypted"],
    added: (r) => (r.enabled == null ? [] : [r.enabled === "true" ? "enabled" : "disabled"]),
  },
  "storage.buckets": {
    layer: "storage",
    noun: "bucket",
    added: (r) => (r.public == null ? [] : [r.public === "true" ? "public" : "private"]),
  },
  "functions.functions": {
    layer: "functions",
    noun: "function",
    files: ["files"],
    added: (r) => {
      const out: string[] = [];
      if (r.entrypoint != null) out.push(`entrypoint ${r.entrypoint}`);
      const files = parseFiles(r.files);
      if (files) out.push(`${Object.keys(files).length} file(s)`);
      if (r.verify_jwt != null) out.push(r.verify_jwt === "true" ? "JWT verified" : "no JWT check");
      return out;
    },
  },
  "email.templates": { layer: "email", noun: "template", prose: ["subject", "body"] },
  "email.smtp": {
    layer: "email",
    noun: "SMTP settings",
    single: true,
    hidden: ["password", "armed_branch"],
  },
  "schedules.jobs": {
    layer: "schedules",
    noun: "job",
    // Runtime state is excluded by the policy; headers may carry a bearer token.
    hidden: [
      "paused",
      "paused_reason",
      "armed_branch",
      "last_run_at",
      "next_run_at",
      "failure_count",
      "last_status",
      "headers",
    ],
    added: (r) => [
      ...(r.cron != null ? [`cron ${quoted(r.cron)}`] : []),
      ...(r.target_kind != null ? [`${r.target_kind} ${r.target ?? ""}`.trim()] : []),
    ],
  },
  "realtime.channel_settings": { layer: "realtime", noun: "channel", columnWord: "setting" },
  "webhooks.hooks": {
    layer: "webhooks",
    noun: "webhook",
    hidden: ["secret", "armed_branch", "headers"],
  },
  "secrets.secrets": { layer: "secrets", noun: "secret", secret: true },
  "bough.mask_rules": {
    layer: "masking",
    noun: "masking rule",
    added: (r) => (r.rule == null ? [] : [r.rule]),
  },
};

/** A jsonb `{path: source}` value as text, or null when it is not one. */
export function parseFiles(text: string | null | undefined): Record<string, string> | null {
  if (text == null) return null;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return null;
  const entries = Object.entries(v);
  if (entries.some(([, s]) => typeof s !== "string")) return null;
  return Object.fromEntries(entries as [string, string][]);
}
