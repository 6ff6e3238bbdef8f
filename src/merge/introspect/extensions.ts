import type pg from "pg";
import { extensionId, schemaId } from "../catalog/ids.ts";
import type { ExtensionObject } from "../catalog/snapshot.ts";
import type { IntrospectContext } from "./context.ts";

interface Row {
  oid: number;
  name: string;
  schema: string;
  version: string;
}

interface MemberRow {
  catalog: string;
  objid: number;
  extension: number;
}

/**
 * Every extension (the objects it creates are not listed). Its members are registered as
 * aliases of the extension, so a column of type citext depends on extension:citext.
 */
export async function readExtensions(
  client: pg.ClientBase,
  ctx: IntrospectContext,
): Promise<ExtensionObject[]> {
  const { rows } = await client.query<Row>(
    `SELECT e.oid, e.extname AS name, n.nspname AS schema, e.extversion AS version
       FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace`,
  );
  const byOid = new Map<number, string>();
  const out = rows.map((r): ExtensionObject => {
    const id = extensionId(r.name);
    byOid.set(r.oid, id);
    ctx.ids.add("pg_extension", r.oid, 0, id);
    return {
      kind: "extension",
      id,
      deps: [schemaId(r.schema)],
      name: r.name,
      schema: r.schema,
      version: r.version,
    };
  });
  await registerMembers(client, ctx, byOid);
  return out;
}

async function registerMembers(
  client: pg.ClientBase,
  ctx: IntrospectContext,
  byOid: Map<number, string>,
) {
  // Array types of member types are not members themselves, but stand for the extension too.
  const { rows } = await client.query<MemberRow>(
    `SELECT d.classid::regclass::text AS catalog, d.objid, d.refobjid AS extension
       FROM pg_depend d
      WHERE d.deptype = 'e' AND d.refclassid = 'pg_extension'::regclass
     UNION ALL
     SELECT 'pg_type', t.typarray, d.refobjid
       FROM pg_depend d JOIN pg_type t ON t.oid = d.objid
      WHERE d.deptype = 'e' AND d.refclassid = 'pg_extension'::regclass
        AND d.classid = 'pg_type'::regclass AND t.typarray <> 0`,
  );
  for (const r of rows) {
    const id = byOid.get(r.extension);
    if (id) ctx.ids.addAlias(r.catalog, r.objid, 0, id);
  }
}
