import { IdRegistry } from "./ids.ts";

/** What every catalog reader needs: the server version, the schemas left out, the oid → id registry. */
export interface IntrospectContext {
  serverVersion: number;
  /** Schema names never listed (bound as $1 in every query that filters by schema). */
  excluded: string[];
  ids: IdRegistry;
}

/** Schemas that are never merge objects: the catalogs and bough's own bookkeeping. */
export const ALWAYS_EXCLUDED = ["information_schema", "bough"];

export function createContext(o: {
  serverVersion: number;
  excludeSchemas?: string[];
}): IntrospectContext {
  const excluded = [...new Set([...ALWAYS_EXCLUDED, ...(o.excludeSchemas ?? [])])].sort();
  return { serverVersion: o.serverVersion, excluded, ids: new IdRegistry() };
}

/**
 * SQL condition: namespace alias `n` is a user schema. Every pg_* schema (pg_catalog,
 * pg_toast, pg_temp_N, pg_toast_temp_N) is reserved, so one prefix test covers them;
 * `$1` is the excluded names. Fragments are constants of this module, never data.
 */
export const userSchema = (n: string) =>
  `(${n}.nspname NOT LIKE 'pg\\_%' AND ${n}.nspname <> ALL($1::text[]))`;

/**
 * Every object created after initdb has an oid >= 16384 (FirstNormalObjectId; oids wrap
 * around to it), so queries cut the catalogs' own rows early with `oid >= USER_OID`.
 */
export const USER_OID = 16384;

/** SQL condition: the object `oid` of `catalog` is not a member of an extension. */
export const notExtensionMember = (catalog: string, oid: string) =>
  `NOT EXISTS (SELECT 1 FROM pg_depend xd WHERE xd.classid = '${catalog}'::regclass AND xd.objid = ${oid} AND xd.deptype = 'e')`;

/** SQL: the object is not part of another one (a range type's constructor functions come with it). */
export const notInternal = (catalog: string, oid: string) =>
  `NOT EXISTS (SELECT 1 FROM pg_depend id WHERE id.classid = '${catalog}'::regclass AND id.objid = ${oid} AND id.deptype = 'i')`;

/**
 * SQL: constraint `co` is not a foreign key's clone for a partition it references (same
 * table as its parent constraint, auto-named): it comes and goes with that key.
 */
export const notPartitionFkClone = (co: string) =>
  `NOT EXISTS (SELECT 1 FROM pg_constraint pc WHERE pc.oid = ${co}.conparentid AND pc.conrelid = ${co}.conrelid)`;

/** Sorted copy with duplicates removed; plain code-unit order so the result never depends on a locale. */
export function sortedUnique(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}
