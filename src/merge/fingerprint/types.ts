/**
 * A catalog-level fingerprint of a database's user schema, read straight from pg_catalog
 * and independent of the snapshot model: what the merge uses to prove that nothing the
 * snapshot does not see was changed or lost. Entries are keyed by names (quoted with
 * quote_ident, so dotted names cannot collide), never by oids, so two clusters compare
 * equal exactly when their schemas are equal.
 *
 * Keys: `<catalog>:<names>`, e.g. `class:public.t`, `column:public.t.id`,
 * `identity:public.t.id`, `rule:public.t.r`, `default_acl:alice:public:r`.
 */
export const FINGERPRINT_VERSION = 1;

export interface FingerprintEntry {
  /** The snapshot object this entry is part of (see catalog/snapshot.ts), or null when the snapshot does not model it. */
  sid: string | null;
  /** With sid null: the snapshot objects whose changes explain this entry's (see spec.ts). */
  partOf?: string[];
  /** Key of the entry this one goes away with (a column's table, a rule's table, a comment's object). */
  on: string | null;
  /** Meaningful catalog columns as text (oids mapped to names); volatile ones and nulls are left out. */
  fields: Record<string, string | null>;
}

export interface Fingerprint {
  version: typeof FINGERPRINT_VERSION;
  serverVersion: number;
  /** key → entry, keys sorted. */
  entries: Record<string, FingerprintEntry>;
}
