/**
 * Relation ids by relkind, and the registry that maps catalog addresses (catalog, oid,
 * sub-id) to snapshot ids (built in catalog/ids.ts), so pg_depend, pg_description and ACL rows,
 * which speak in oids, can be turned into ids without one query per object.
 */

import { BoughError } from "../../core/errors.ts";
import { schemaObjectId } from "../catalog/ids.ts";

/** Id of a relation from its relkind: tables, views, matviews, sequences, indexes, composites. */
export function relationId(relkind: string, s: string, n: string): string {
  const kind = RELKINDS[relkind];
  if (!kind) {
    throw new BoughError(
      "INTERNAL",
      `unexpected relkind ${relkind} for ${s}.${n}`,
      "report this as a bug",
    );
  }
  return schemaObjectId(kind, s, n);
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

/**
 * An address inside one catalog as a single number: oids are below 2^32 and sub-ids
 * (attnums) below 2^11, so oid * 2^11 + sub stays exact. Numbers, not strings: this
 * registry sees every column and every pg_depend row, and string keys cost GC time.
 */
const address = (oid: number, sub: number) => oid * 2048 + sub;

/**
 * Oid → id for one introspection run. "Primary" entries are the object itself (what a
 * grant or comment may target); "alias" entries are parts that stand for it in pg_depend
 * (a view's rewrite rule, a column's default, a table's row type, an extension's members).
 * Catalogs are named as regclass prints them ("pg_class").
 */
export class IdRegistry {
  private readonly primary = new Map<string, Map<number, string>>();
  private readonly alias = new Map<string, Map<number, string>>();

  add(catalog: string, oid: number, sub: number, id: string): void {
    table(this.primary, catalog).set(address(oid, sub), id);
  }

  addAlias(catalog: string, oid: number, sub: number, id: string): void {
    if (oid) table(this.alias, catalog).set(address(oid, sub), id);
  }

  /** The object at exactly this address, aliases excluded (for grants and comments). */
  target(catalog: string, oid: number, sub = 0): string | undefined {
    return this.primary.get(catalog)?.get(address(oid, sub));
  }

  /** The object that stands for this address; a sub-object falls back to its owner (a view column → the view). */
  resolve(catalog: string, oid: number, sub: number): string | undefined {
    const primary = this.primary.get(catalog);
    const alias = this.alias.get(catalog);
    const exact = address(oid, sub);
    const found = primary?.get(exact) ?? alias?.get(exact);
    if (found || sub === 0) return found;
    const whole = address(oid, 0);
    return primary?.get(whole) ?? alias?.get(whole);
  }
}

function table(maps: Map<string, Map<number, string>>, catalog: string): Map<number, string> {
  let m = maps.get(catalog);
  if (!m) {
    m = new Map();
    maps.set(catalog, m);
  }
  return m;
}
