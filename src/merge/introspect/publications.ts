import type pg from "pg";
import {
  columnId,
  publicationId,
  publicationSchemaId,
  publicationTableId,
  schemaId,
  tableId,
} from "../catalog/ids.ts";
import type {
  PublicationObject,
  PublicationSchemaObject,
  PublicationTableObject,
} from "../catalog/snapshot.ts";
import { type IntrospectContext, USER_OID, userSchema } from "./context.ts";

interface PublicationRow {
  oid: number;
  name: string;
  all_tables: boolean;
  insert: boolean;
  update: boolean;
  delete: boolean;
  truncate: boolean;
  via_root: boolean;
}

/**
 * Publications. They are database-wide (like event triggers): every one is listed, and
 * its memberships only for tables and schemas that are not excluded.
 */
export async function readPublications(
  client: pg.ClientBase,
  ctx: IntrospectContext,
): Promise<PublicationObject[]> {
  const { rows } = await client.query<PublicationRow>(
    `SELECT p.oid, p.pubname AS name, p.puballtables AS all_tables, p.pubinsert AS insert,
            p.pubupdate AS update, p.pubdelete AS delete, p.pubtruncate AS truncate,
            p.pubviaroot AS via_root
       FROM pg_publication p
      WHERE p.oid >= ${USER_OID}`,
  );
  return rows.map((r) => {
    const id = publicationId(r.name);
    // For its owner (introspect/owners.ts).
    ctx.ids.add("pg_publication", r.oid, 0, id);
    return {
      kind: "publication",
      id,
      deps: [],
      name: r.name,
      allTables: r.all_tables,
      publish: (["insert", "update", "delete", "truncate"] as const).filter((a) => r[a]),
      viaRoot: r.via_root,
    };
  });
}

interface TableRow {
  oid: number;
  publication: string;
  schema: string;
  table: string;
  columns: string[] | null;
  row_filter: string | null;
}

/** Tables in publications; the column list and row filter exist from PG 15. */
export async function readPublicationTables(
  client: pg.ClientBase,
  ctx: IntrospectContext,
): Promise<PublicationTableObject[]> {
  const pg15 = ctx.serverVersion >= 150000;
  const { rows } = await client.query<TableRow>(
    `SELECT pr.oid, p.pubname AS publication, n.nspname AS schema, c.relname AS table,
            ${
              pg15
                ? `(SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a
                     WHERE a.attrelid = pr.prrelid AND a.attnum = ANY(pr.prattrs))`
                : "NULL::text[]"
            } AS columns,
            ${pg15 ? "pg_get_expr(pr.prqual, pr.prrelid)" : "NULL::text"} AS row_filter
       FROM pg_publication_rel pr
       JOIN pg_publication p ON p.oid = pr.prpubid
       JOIN pg_class c ON c.oid = pr.prrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE ${userSchema("n")}`,
    [ctx.excluded],
  );
  return rows.map((r) => {
    const id = publicationTableId(r.publication, r.schema, r.table);
    ctx.ids.add("pg_publication_rel", r.oid, 0, id);
    const columns = r.columns ? [...r.columns] : null;
    return {
      kind: "publication_table",
      id,
      deps: [
        publicationId(r.publication),
        tableId(r.schema, r.table),
        ...(columns ?? []).map((col) => columnId(r.schema, r.table, col)),
      ],
      publication: r.publication,
      schema: r.schema,
      table: r.table,
      columns,
      rowFilter: r.row_filter,
    };
  });
}

/** FOR TABLES IN SCHEMA memberships (PG 15+). */
export async function readPublicationSchemas(
  client: pg.ClientBase,
  ctx: IntrospectContext,
): Promise<PublicationSchemaObject[]> {
  if (ctx.serverVersion < 150000) return [];
  const { rows } = await client.query<{ oid: number; publication: string; schema: string }>(
    `SELECT pn.oid, p.pubname AS publication, n.nspname AS schema
       FROM pg_publication_namespace pn
       JOIN pg_publication p ON p.oid = pn.pnpubid
       JOIN pg_namespace n ON n.oid = pn.pnnspid
      WHERE ${userSchema("n")}`,
    [ctx.excluded],
  );
  return rows.map((r) => {
    const id = publicationSchemaId(r.publication, r.schema);
    ctx.ids.add("pg_publication_namespace", r.oid, 0, id);
    return {
      kind: "publication_schema",
      id,
      deps: [publicationId(r.publication), schemaId(r.schema)],
      publication: r.publication,
      schema: r.schema,
    };
  });
}
