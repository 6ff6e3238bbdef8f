import type pg from "pg";
import { createContext } from "../introspect/context.ts";
import { inSnapshot, type SnapshotOptions } from "../introspect/snapshot.ts";
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
 * transaction), excluding the same schemas, spread over more connections given `connect`
 * as introspect does (entries are still taken in query order). Null on servers older than PG 15.
 *
 * @example const fp = await readFingerprint(client);
 */
export async function readFingerprint(
  client: pg.ClientBase,
  o: SnapshotOptions & { excludeSchemas?: string[] } = {},
): Promise<Fingerprint | null> {
  return inSnapshot(
    client,
    async (pool) => {
      const { serverVersion } = pool;
      if (serverVersion < FINGERPRINT_MIN_VERSION) return null;
      const { excluded } = createContext({ serverVersion, excludeSchemas: o.excludeSchemas });
      const entries = new Map<string, FingerprintEntry>();
      const results = await Promise.all(
        QUERIES.map((query) =>
          pool.run((c) => c.query<Row>(query.sql, query.global ? [] : [excluded])),
        ),
      );
      QUERIES.forEach((query, i) => {
        for (const row of results[i].rows) entries.set(row.key, toEntry(row, query));
      });
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
    },
    o,
  );
}

function toEntry(row: Row, query: CatalogQuery): FingerprintEntry {
  const { key: _key, on, parts, ...rest } = row;
  const fields: Record<string, string | null> = {};
  for (const [name, value] of Object.entries(rest)) {
    // Null fields are left out (most are): a missing field reads as null, and the stored JSON halves.
    if (value !== null && value !== undefined) fields[name] = String(value);
  }
  const partOf = parts.length > 0 ? (query.partOf?.(parts) ?? []) : [];
  return {
    sid: parts.length > 0 ? query.sid(parts) : null,
    on,
    fields,
    ...(partOf.length > 0 ? { partOf } : {}),
  };
}
