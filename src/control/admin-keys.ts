import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { BoughError } from "../core/errors.ts";
import { validateName } from "../core/names.ts";
import { getSetting, setSetting } from "./settings.ts";
import { type Db, nowIso } from "./store.ts";

/**
 * Admin keys of the management API (`Authorization: Bearer bough_admin_...`): named, so
 * the audit says which agent or CI job acted. A key is shown once, when created; only
 * its sha256 is stored (the key carries 256 random bits, so no slow hash is needed).
 */
export interface AdminKeyInfo {
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
}

export const ADMIN_KEY_PREFIX = "bough_admin_";
/** The key `bough init` (or the first `bough up`) creates. */
export const INITIAL_ADMIN_KEY = "admin";
// Set once the initial key was issued: revoking every key must not make the next `up` mint one.
const ISSUED_SETTING = "admin-keys:initial-issued";

const hashOf = (key: string) => createHash("sha256").update(key).digest();

/** Creates a named key; returns it (the only time it is ever readable). */
export function createAdminKey(db: Db, name: string): { name: string; key: string } {
  validateName("admin key", name);
  const key = `${ADMIN_KEY_PREFIX}${randomBytes(32).toString("base64url")}`;
  const inserted = db
    .prepare(
      "INSERT INTO admin_keys (name, hash, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
    )
    .run(name, hashOf(key).toString("hex"), nowIso());
  if (inserted.changes === 0) {
    throw new BoughError(
      "ADMIN_KEY_EXISTS",
      `admin key "${name}" already exists`,
      `pick another name, or \`bough admin-key revoke ${name}\` first`,
    );
  }
  return { name, key };
}

/**
 * The initial key, created the first time a home is initialised (null when it was
 * issued before, even if it has been revoked since).
 */
export function issueInitialAdminKey(db: Db): { name: string; key: string } | null {
  return db.transaction(() => {
    if (getSetting(db, ISSUED_SETTING) !== null) return null;
    setSetting(db, ISSUED_SETTING, nowIso());
    return createAdminKey(db, INITIAL_ADMIN_KEY);
  })();
}

export function listAdminKeys(db: Db): AdminKeyInfo[] {
  return db
    .prepare(
      "SELECT name, created_at AS createdAt, last_used_at AS lastUsedAt FROM admin_keys ORDER BY name",
    )
    .all() as AdminKeyInfo[];
}

/** Revokes a key: it stops working at once (the row goes, the name is free again). */
export function revokeAdminKey(db: Db, name: string): void {
  const r = db.prepare("DELETE FROM admin_keys WHERE name = ?").run(name);
  if (r.changes === 0) {
    throw new BoughError(
      "ADMIN_KEY_NOT_FOUND",
      `admin key "${name}" does not exist`,
      "run `bough admin-key list`",
    );
  }
}

/**
 * The name of the key presented, or null. Every stored hash is compared in constant time
 * (there are a handful of keys), and the key's last use is recorded.
 */
export function verifyAdminKey(db: Db, presented: string): string | null {
  if (!presented.startsWith(ADMIN_KEY_PREFIX)) return null;
  const hash = hashOf(presented);
  const rows = db.prepare("SELECT name, hash FROM admin_keys").all() as {
    name: string;
    hash: string;
  }[];
  let found: string | null = null;
  for (const r of rows) {
    if (timingSafeEqual(Buffer.from(r.hash, "hex"), hash)) found = r.name;
  }
  if (found !== null) {
    try {
      db.prepare("UPDATE admin_keys SET last_used_at = ? WHERE name = ?").run(nowIso(), found);
    } catch {
      // A read-only control plane (full disk) must not lock admins out of the read routes.
    }
  }
  return found;
}
