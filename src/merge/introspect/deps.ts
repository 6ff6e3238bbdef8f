import type pg from "pg";
import type { DbObject } from "../catalog/snapshot.ts";
import { type IntrospectContext, sortedUnique, USER_OID } from "./context.ts";

/** classid, objid, objsubid, refclassid, refobjid, refobjsubid, deptype (array rows: cheaper to parse). */
type Row = [number, number, number, number, number, number, "n" | "a"];

/** pg_depend's normal and auto dependencies of user objects, with the catalogs' names. */
export interface CatalogDeps {
  catalogs: Map<number, string>;
  rows: Row[];
}

/**
 * One query for the whole database; only user objects (oid >= 16384) can depend on
 * anything we list, and schema dependencies are already structural.
 */
export async function readCatalogDeps(client: pg.ClientBase): Promise<CatalogDeps> {
  const catalogs = await catalogNames(client);
  const { rows } = await client.query<Row>({
    text: `SELECT d.classid, d.objid, d.objsubid, d.refclassid, d.refobjid, d.refobjsubid, d.deptype
             FROM pg_depend d
            WHERE d.deptype IN ('n', 'a') AND d.objid >= ${USER_OID}
              AND d.refclassid <> 'pg_namespace'::regclass`,
    rowMode: "array",
  });
  return { catalogs, rows };
}

/**
 * Adds what pg_depend knows to each object's structural deps, then keeps only ids that
 * are in the snapshot, sorted.
 *
 * A sequence's auto dependency on its owning column is left out: the column's default
 * needs the sequence first, and OWNED BY is carried by sequence.ownedBy instead.
 */
export function addCatalogDeps(
  ctx: IntrospectContext,
  { catalogs, rows }: CatalogDeps,
  objects: Map<string, DbObject>,
): void {
  const extra = new Map<string, string[]>();
  for (const [classid, objid, objsubid, refclassid, refobjid, refobjsubid, deptype] of rows) {
    const from = ctx.ids.resolve(catalogs.get(classid) ?? "", objid, objsubid);
    if (!from) continue;
    const to = ctx.ids.resolve(catalogs.get(refclassid) ?? "", refobjid, refobjsubid);
    if (!to || to === from) continue;
    if (deptype === "a" && objects.get(from)?.kind === "sequence") continue;
    const list = extra.get(from);
    if (list) list.push(to);
    else extra.set(from, [to]);
  }
  for (const obj of objects.values()) {
    const more = extra.get(obj.id);
    const kept = (more ? obj.deps.concat(more) : obj.deps).filter(
      (id) => id !== obj.id && objects.has(id),
    );
    obj.deps = kept.length > 1 ? sortedUnique(kept) : kept;
  }
}

/** Oid → name of the system catalogs, so pg_depend rows carry numbers rather than regclass text. */
async function catalogNames(client: pg.ClientBase): Promise<Map<number, string>> {
  const { rows } = await client.query<{ oid: number; name: string }>(
    `SELECT c.oid, c.relname::text AS name FROM pg_class c
      WHERE c.relnamespace = 'pg_catalog'::regnamespace AND c.relkind = 'r'`,
  );
  return new Map(rows.map((r) => [r.oid, r.name]));
}
