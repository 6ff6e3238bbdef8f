import type pg from "pg";
import { schemaId, schemaObjectId } from "../catalog/ids.ts";
import type { CollationObject } from "../catalog/snapshot.ts";
import { type IntrospectContext, notExtensionMember, USER_OID, userSchema } from "./context.ts";

interface Row {
  oid: number;
  schema: string;
  name: string;
  provider: "c" | "i" | "b";
  deterministic: boolean;
  lc_collate: string | null;
  lc_ctype: string | null;
  locale: string | null;
  rules: string | null;
}

const PROVIDERS: Record<Row["provider"], CollationObject["provider"]> = {
  c: "libc",
  i: "icu",
  b: "builtin",
};

/**
 * The catalog columns that moved between versions: PG 16 added ICU rules, PG 17 renamed
 * colliculocale to colllocale (shared with the builtin provider). Constants, never data.
 */
function versionColumns(serverVersion: number): { locale: string; rules: string } {
  return {
    locale: serverVersion >= 170000 ? "c.colllocale" : "c.colliculocale",
    rules: serverVersion >= 160000 ? "c.collicurules" : "NULL::text",
  };
}

/**
 * Collations created in user schemas (CREATE COLLATION). collversion is left out: it is
 * the library's version at creation time, not part of what the collation means. A column,
 * domain or index using one depends on it through pg_depend once it is registered here.
 */
export async function readCollations(
  client: pg.ClientBase,
  ctx: IntrospectContext,
): Promise<CollationObject[]> {
  const v = versionColumns(ctx.serverVersion);
  const { rows } = await client.query<Row>(
    `SELECT c.oid, n.nspname AS schema, c.collname AS name, c.collprovider AS provider,
            c.collisdeterministic AS deterministic, c.collcollate AS lc_collate, c.collctype AS lc_ctype,
            ${v.locale} AS locale, ${v.rules} AS rules
       FROM pg_collation c JOIN pg_namespace n ON n.oid = c.collnamespace
      WHERE c.oid >= ${USER_OID} AND c.collprovider IN ('c', 'i', 'b')
        AND ${userSchema("n")} AND ${notExtensionMember("pg_collation", "c.oid")}`,
    [ctx.excluded],
  );
  return rows.map((r) => {
    const id = schemaObjectId("collation", r.schema, r.name);
    ctx.ids.add("pg_collation", r.oid, 0, id);
    const libc = r.provider === "c";
    return {
      kind: "collation",
      id,
      deps: [schemaId(r.schema)],
      schema: r.schema,
      name: r.name,
      provider: PROVIDERS[r.provider],
      locale: libc ? null : r.locale,
      lcCollate: libc ? r.lc_collate : null,
      lcCtype: libc ? r.lc_ctype : null,
      deterministic: r.deterministic,
      rules: r.rules,
    };
  });
}
