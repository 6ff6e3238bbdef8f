import type pg from "pg";
import { createContext } from "../introspect/context.ts";
import { inSnapshot } from "../introspect/index.ts";
import { COMMENTS, SECURITY_LABELS } from "./comments.ts";
import { keyPrefix } from "./modelled.ts";
import { OBJECT_QUERIES } from "./objects.ts";
import { RELATION_QUERIES } from "./relations.ts";
import type { CatalogQuery } from "./spec.ts";
import { FINGERPRINT_VERSION, type Fingerprint, type FingerprintEntry } from "./types.ts";

/** pg_publication_namespace, pg_publication_rel's row filters and column lists are PG 15. */
export const FINGERPRINT_MIN_VERSION = 150000;

const QUERIES: CatalogQuery[] = [...RELATION_QUERIES, ...OBJECT_QUERIES, COMMENTS, SECURITY_LABELS];

interface Row {
  key: string;
  on: string | null;
  parts: string[];
  [field: string]: unknown;
}

/**
 * Reads the catalog fingerprint of a live database (see types.ts): one query per catalog,
 * in one REPEATABLE READ snapshot like introspect (or a savepoint of the caller's
 * transaction), excluding the same schemas. Null on servers older than PG 15.
 *
 * @example const fp = await readFingerprint(client);
 */
export async function readFingerprint(
  client: pg.ClientBase,
  o: { excludeSchemas?: string[] } = {},
): Promise<Fingerprint | null> {
  return inSnapshot(client, async () => {
    const version = await client.query<{ v: string }>(
      "SELECT current_setting('server_version_num') AS v",
    );
    const serverVersion = Number(version.rows[0].v);
    if (serverVersion < FINGERPRINT_MIN_VERSION) return null;
    const { excluded } = createContext({ serverVersion, excludeSchemas: o.excludeSchemas });
    const entries = new Map<string, FingerprintEntry>();
    for (const query of QUERIES) {
      const { rows } = await client.query<Row>(query.sql, query.global ? [] : [excluded]);
      for (const row of rows) entries.set(row.key, toEntry(row, query));
    }
    // A comment is part of the snapshot's comment on the object it describes.
    for (const [key, entry] of entries) {
      if (keyPrefix(key) === "comment" && entry.on !== null) {
        const of = entries.get(entry.on)?.sid;
        if (of) entry.sid = `comment:${of}`;
      }
    }
    const sorted: Record<string, FingerprintEntry> = {};
    for (const key of [...entries.keys()].sort())
      sorted[key] = entries.get(key) as FingerprintEntry;
    return { version: FINGERPRINT_VERSION, serverVersion, entries: sorted };
  });
}

function toEntry(row: Row, query: CatalogQuery): FingerprintEntry {
  const { key: _key, on, parts, ...rest } = row;
  const fields: Record<string, string | null> = {};
  for (const [name, value] of Object.entries(rest)) {
    // Null fields are left out (most are): a missing field reads as null, and the stored JSON halves.
    if (value !== null && value !== undefined) fields[name] = String(value);
  }
  return { sid: parts.length > 0 ? query.sid(parts) : null, on, fields };
}
