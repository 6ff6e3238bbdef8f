/**
 * Snapshot identities (see catalog/snapshot.ts) and the registry that maps catalog
 * addresses (catalog, oid, sub-id) to them, so pg_depend, pg_description and ACL rows,
 * which speak in oids, can be turned into ids without one query per object.
 */

export const schemaId = (s: string) => `schema:${s}`;
export const extensionId = (e: string) => `extension:${e}`;
export const qualified = (s: string, n: string) => `${s}.${n}`;
export const columnId = (s: string, t: string, c: string) => `column:${s}.${t}.${c}`;
export const functionId = (s: string, f: string, args: string) => `function:${s}.${f}(${args})`;
export const memberId = (kind: string, s: string, t: string, n: string) => `${kind}:${s}.${t}.${n}`;

/** Id of a relation from its relkind: tables, views, matviews, sequences, indexes, composites. */
export function relationId(relkind: string, s: string, n: string): string {
  const kind = RELKINDS[relkind];
  if (!kind) throw new Error(`unexpected relkind ${relkind} for ${s}.${n}`);
  return `${kind}:${s}.${n}`;
}

const RELKINDS: Record<string, string> = {
  r: "table",
  p: "table",
  v: "view",
  m: "matview",
  S: "sequence",
  i: "index",
  I: "index",
  c: "composite",
};

/** A catalog address: regclass name of the catalog (e.g. "pg_class"), oid, sub-id (attnum). */
const key = (catalog: string, oid: number, sub: number) => `${catalog}:${oid}:${sub}`;

/**
 * Oid → id for one introspection run. "Primary" entries are the object itself (what a
 * grant or comment may target); "alias" entries are parts that stand for it in pg_depend
 * (a view's rewrite rule, a column's default, a table's row type, an extension's members).
 */
export class IdRegistry {
  private readonly primary = new Map<string, string>();
  private readonly alias = new Map<string, string>();

  add(catalog: string, oid: number, sub: number, id: string): void {
    this.primary.set(key(catalog, oid, sub), id);
  }

  addAlias(catalog: string, oid: number, sub: number, id: string): void {
    if (oid) this.alias.set(key(catalog, oid, sub), id);
  }

  /** The object at exactly this address, aliases excluded (for grants and comments). */
  target(catalog: string, oid: number, sub = 0): string | undefined {
    return this.primary.get(key(catalog, oid, sub));
  }

  /** The object that stands for this address; a sub-object falls back to its owner (a view column → the view). */
  resolve(catalog: string, oid: number, sub: number): string | undefined {
    const exact = key(catalog, oid, sub);
    const found = this.primary.get(exact) ?? this.alias.get(exact);
    if (found || sub === 0) return found;
    return this.resolve(catalog, oid, 0);
  }
}
