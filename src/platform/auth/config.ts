import type pg from "pg";

/** auth.config as the service uses it (rows keyed by setting name; merged as config). */
export interface AuthConfig {
  siteUrl: string;
  uriAllowList: string[];
  passwordMinLength: number;
  disableSignup: boolean;
  /** Sign-ups and email changes need no confirmation mail (Supabase's local default). */
  mailerAutoconfirm: boolean;
}

/** Setting names as stored (GoTrue's), each with its type. */
export const CONFIG_KEYS = {
  site_url: "string",
  uri_allow_list: "array",
  password_min_length: "number",
  disable_signup: "boolean",
  mailer_autoconfirm: "boolean",
} as const;

export type ConfigKey = keyof typeof CONFIG_KEYS;

export async function readConfig(c: pg.ClientBase): Promise<AuthConfig> {
  const r = await c.query<{ key: string; value: unknown }>("SELECT key, value FROM auth.config");
  const v = Object.fromEntries(r.rows.map((x) => [x.key, x.value]));
  return {
    siteUrl: typeof v.site_url === "string" ? v.site_url : "http://localhost:3000",
    uriAllowList: Array.isArray(v.uri_allow_list) ? v.uri_allow_list.map(String) : [],
    passwordMinLength: typeof v.password_min_length === "number" ? v.password_min_length : 6,
    disableSignup: v.disable_signup === true,
    mailerAutoconfirm: v.mailer_autoconfirm !== false,
  };
}

/** Writes the given settings (one row each), leaving the others as they are. */
export async function writeConfig(
  c: pg.ClientBase,
  patch: Partial<Record<ConfigKey, unknown>>,
): Promise<void> {
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    await c.query(
      `INSERT INTO auth.config (key, value) VALUES ($1, $2::jsonb)
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
      [key, JSON.stringify(value)],
    );
  }
}

export function configJson(cfg: AuthConfig): Record<ConfigKey, unknown> {
  return {
    site_url: cfg.siteUrl,
    uri_allow_list: cfg.uriAllowList,
    password_min_length: cfg.passwordMinLength,
    disable_signup: cfg.disableSignup,
    mailer_autoconfirm: cfg.mailerAutoconfirm,
  };
}

/**
 * Where a redirect may go: the site URL (or below it), or an allow-list entry — exact, or
 * a prefix when it ends in `*` / `**`. Anything else falls back to the site URL, as GoTrue does.
 */
export function safeRedirect(cfg: AuthConfig, requested: string | undefined): string {
  if (!requested) return cfg.siteUrl;
  const allowed =
    requested === cfg.siteUrl ||
    requested.startsWith(cfg.siteUrl.endsWith("/") ? cfg.siteUrl : `${cfg.siteUrl}/`) ||
    cfg.uriAllowList.some((entry) =>
      entry.endsWith("*") ? requested.startsWith(entry.replace(/\*+$/, "")) : requested === entry,
    );
  return allowed ? requested : cfg.siteUrl;
}
