import { createCipheriv, hkdfSync, randomBytes } from "node:crypto";
import type pg from "pg";

/** An OAuth provider row as the admin API shows it: the client secret never leaves. */
export interface ProviderJson {
  provider: string;
  enabled: boolean;
  client_id: string | null;
  redirect_uri: string | null;
  has_client_secret: boolean;
}

// The secret is encrypted under a key derived from the project's token secret (kept outside
// the database), so a dump of a branch does not reveal it; AES-256-GCM, fresh IV per value.
function encryptSecret(projectSecret: Uint8Array, plain: string): string {
  const key = Buffer.from(hkdfSync("sha256", projectSecret, "", "bough oauth client secret", 32));
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const data = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
  return ["v1", iv, cipher.getAuthTag(), data]
    .map((x) => (typeof x === "string" ? x : x.toString("base64url")))
    .join(".");
}

export async function listProviders(c: pg.ClientBase): Promise<ProviderJson[]> {
  const r = await c.query<ProviderJson>(
    `SELECT provider, enabled, client_id, redirect_uri, client_secret_encrypted IS NOT NULL AS has_client_secret
       FROM auth.oauth_providers ORDER BY provider`,
  );
  return r.rows;
}

/** Creates or updates a provider row; a client secret given is stored encrypted. */
export async function putProvider(
  c: pg.ClientBase,
  projectSecret: Uint8Array,
  o: {
    provider: string;
    enabled?: boolean;
    clientId?: string;
    clientSecret?: string;
    redirectUri?: string;
  },
): Promise<ProviderJson> {
  const encrypted =
    o.clientSecret === undefined ? null : encryptSecret(projectSecret, o.clientSecret);
  await c.query(
    `INSERT INTO auth.oauth_providers (provider, enabled, client_id, client_secret_encrypted, redirect_uri)
     VALUES ($1, coalesce($2, false), $3, $4, $5)
     ON CONFLICT (provider) DO UPDATE SET
       enabled = coalesce($2, auth.oauth_providers.enabled),
       client_id = coalesce($3, auth.oauth_providers.client_id),
       client_secret_encrypted = coalesce($4, auth.oauth_providers.client_secret_encrypted),
       redirect_uri = coalesce($5, auth.oauth_providers.redirect_uri)`,
    [o.provider, o.enabled ?? null, o.clientId ?? null, encrypted, o.redirectUri ?? null],
  );
  const all = await listProviders(c);
  return all.find((p) => p.provider === o.provider) as ProviderJson;
}
