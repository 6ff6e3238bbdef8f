/**
 * One fingerprint query: it returns `key`, `on` (text or null), `parts` (text[], the names
 * the snapshot id is built from) and any number of field columns, every one as text or
 * boolean. `$1` is the excluded schema names, as in introspect.
 */
export interface CatalogQuery {
  sql: string;
  /** Not filtered by schema (extensions, publications): the query takes no parameter. */
  global?: true;
  /** The snapshot id of a row from its `parts`, or null when the snapshot has no such object. */
  sid: (parts: string[]) => string | null;
  /** Snapshot objects that make an entry with no object of its own (sid null) come and go. */
  partOf?: (parts: string[]) => string[];
}

/** SQL: the elements of an array as text, sorted (code-unit order), as one text value. */
export const sorted = (expr: string) =>
  `(SELECT array_agg(x::text ORDER BY x::text COLLATE "C") FROM unnest(${expr}) x)::text`;

/** SQL: `name` quoted as an identifier. */
export const q = (name: string) => `quote_ident(${name})`;

/** SQL: "S.N" of a namespace and a name, both quoted. */
export const qn = (schema: string, name: string) => `format('%I.%I', ${schema}, ${name})`;
