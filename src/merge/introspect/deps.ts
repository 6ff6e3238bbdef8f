import type pg from "pg";
import type { DbObject } from "../catalog/snapshot.ts";
import { type IntrospectContext, sortedUnique, USER_OID } from "./context.ts";

interface Row {
  catalog: string;
  objid: number;
  objsubid: number;
  refcatalog: string;
  refobjid: number;
  refobjsubid: number;
  deptype: "n" | "a";
}

/**
 * Adds what pg_depend knows (normal and auto dependencies) to each object's structural
 * deps, then keeps only ids that are in the snapshot, sorted. One query for the whole
 * database; only user objects (oid >= 16384) can depend on anything we list, and schema
 * dependencies are already structural.
 *
 * A sequence's auto dependency on its owning column is left out: the column's default
 * needs the sequence first, and OWNED BY is carried by sequence.ownedBy instead.
 */
export async function addCatalogDeps(
  client: pg.ClientBase,
  ctx: IntrospectContext,
  objects: Map<string, DbObject>,
): Promise<void> {
  const { rows } = await client.query<Row>(
    `SELECT d.classid::regclass::text AS catalog, d.objid, d.objsubid,
            d.refclassid::regclass::text AS refcatalog, d.refobjid, d.refobjsubid, d.deptype
       FROM pg_depend d
      WHERE d.deptype IN ('n', 'a') AND d.objid >= ${USER_OID}
        AND d.refclassid <> 'pg_namespace'::regclass`,
  );
  const extra = new Map<string, string[]>();
  for (const r of rows) {
    const from = ctx.ids.resolve(r.catalog, r.objid, r.objsubid);
    if (!from) continue;
    const to = ctx.ids.resolve(r.refcatalog, r.refobjid, r.refobjsubid);
    if (!to || to === from) continue;
    if (r.deptype === "a" && objects.get(from)?.kind === "sequence") continue;
    const list = extra.get(from);
    if (list) list.push(to);
    else extra.set(from, [to]);
  }
  for (const obj of objects.values()) {
    const all = [...obj.deps, ...(extra.get(obj.id) ?? [])];
    obj.deps = sortedUnique(all.filter((id) => id !== obj.id && objects.has(id)));
  }
}
