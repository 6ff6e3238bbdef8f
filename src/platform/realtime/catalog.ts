import type pg from "pg";
import { BoughError } from "../../core/errors.ts";
import { quoteIdent } from "../../core/names.ts";
import type { RequestRole } from "../request.ts";
import { type FilterCond, parseFilter } from "./filter.ts";
import { PUBLICATION } from "./schema.ts";

/** A publication table as one subscriber's role sees it. */
export interface TableView {
  oid: number;
  schema: string;
  table: string;
  /** Every column with its type name (pg_type.typname: int4, text, _int4...), in order. */
  columns: { name: string; type: string }[];
  /** The columns the role may SELECT (column privileges): the only ones it is sent. */
  selectable: Set<string>;
  /** Whether each INSERT/UPDATE must pass a SELECT as the subscriber (RLS on, role not bypassing). */
  checkRls: boolean;
}

/** What a client asks for in `config.postgres_changes` of its join. */
export interface ChangesRequest {
  event: string;
  schema: string;
  table?: string;
  filter?: string;
}

/** A resolved subscription: the tables it covers and its filter, canonicalised. */
export interface ChangesSubscription {
  id: number;
  event: "INSERT" | "UPDATE" | "DELETE" | "*";
  request: ChangesRequest;
  tables: Map<number, TableView>;
  conds: FilterCond[];
}

const refused = (message: string, hint: string) => new BoughError("INVALID_INPUT", message, hint);

const EVENTS = new Set(["INSERT", "UPDATE", "DELETE", "*"]);

/**
 * Resolves one postgres_changes request for a role, reading the catalogs as the service:
 * the named table must be in the supabase_realtime publication and SELECTable by the role
 * (a wildcard covers the publication tables it may SELECT); filter columns must exist and
 * values must cast to the column's type. Throws INVALID_INPUT with what to do.
 */
export async function resolveSubscription(
  c: pg.ClientBase,
  o: { id: number; request: ChangesRequest; role: RequestRole },
): Promise<ChangesSubscription> {
  const r = o.request;
  const event = String(r.event ?? "").toUpperCase();
  if (!EVENTS.has(event)) {
    throw refused(`unknown postgres_changes event "${r.event}"`, "use INSERT, UPDATE, DELETE or *");
  }
  if (typeof r.schema !== "string" || r.schema === "") {
    throw refused("postgres_changes needs a schema", 'pass schema: "public" (or "*")');
  }
  const table = r.table === undefined || r.table === "*" ? null : String(r.table);
  const { rows } = await c.query<{
    oid: number;
    schema: string;
    table: string;
    can_select: boolean;
    check_rls: boolean;
    columns: { name: string; type: string; selectable: boolean }[];
  }>(
    `SELECT c.oid::int AS oid, n.nspname AS schema, c.relname AS table,
            has_table_privilege($3, c.oid, 'SELECT') AS can_select,
            c.relrowsecurity AND NOT (SELECT rolbypassrls FROM pg_roles WHERE rolname = $3) AS check_rls,
            (SELECT json_agg(json_build_object('name', a.attname, 'type', t.typname,
                    'selectable', has_column_privilege($3, c.oid, a.attnum, 'SELECT')) ORDER BY a.attnum)
               FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
              WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns
       FROM pg_publication_tables pt
       JOIN pg_namespace n ON n.nspname = pt.schemaname
       JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = pt.tablename
      WHERE pt.pubname = $4 AND ($1 = '*' OR n.nspname = $1) AND ($2::text IS NULL OR c.relname = $2)`,
    [r.schema, table, o.role, PUBLICATION],
  );
  const where = table ? `${r.schema}.${table}` : `schema ${r.schema}`;
  if (rows.length === 0) {
    throw refused(
      `Unable to subscribe to changes with given parameters: ${where} is not enabled for realtime`,
      `enable it: alter publication ${PUBLICATION} add table <table>`,
    );
  }
  const allowed = rows.filter((t) => t.can_select);
  if (allowed.length === 0) {
    throw refused(
      `Unable to subscribe to changes: role ${o.role} has no SELECT permission on ${where}`,
      `grant select on the table to ${o.role}, or subscribe with a key or user that has it`,
    );
  }
  const tables = new Map<number, TableView>();
  for (const t of allowed) {
    tables.set(t.oid, {
      oid: t.oid,
      schema: t.schema,
      table: t.table,
      columns: t.columns.map(({ name, type }) => ({ name, type })),
      selectable: new Set(t.columns.filter((x) => x.selectable).map((x) => x.name)),
      checkRls: t.check_rls,
    });
  }
  const conds = r.filter
    ? await canonicalFilter(c, parseFilter(String(r.filter)), [...tables.values()])
    : [];
  return { id: o.id, event: event as ChangesSubscription["event"], request: r, tables, conds };
}

/** Casts every filter value to its column's type and back to text (Postgres' canonical form). */
async function canonicalFilter(
  c: pg.ClientBase,
  conds: FilterCond[],
  tables: TableView[],
): Promise<FilterCond[]> {
  const out: FilterCond[] = [];
  for (const cond of conds) {
    const types = new Set(
      tables.map(
        (t) => t.columns.find((x) => x.name === cond.column && t.selectable.has(x.name))?.type,
      ),
    );
    if (types.has(undefined) || types.size !== 1) {
      throw refused(
        `filter column "${cond.column}" is not a column the subscriber may read in every subscribed table`,
        "filter on a column of the table (check its name and column privileges)",
      );
    }
    const type = [...types][0] as string;
    try {
      const { rows } = await c.query<{ v: string[] }>(
        `SELECT array_agg(x::text::${quoteType(type)}::text) AS v FROM unnest($1::text[]) AS x`,
        [cond.values],
      );
      out.push({ ...cond, values: rows[0].v });
    } catch (err) {
      throw refused(
        `filter value for "${cond.column}" is not a valid ${type}: ${(err as Error).message}`,
        "pass a value of the column's type",
      );
    }
  }
  return out;
}

/** A pg_type name as an SQL type: quoted, with `_x` (array types) written x[]. */
export function quoteType(typname: string): string {
  return typname.startsWith("_") ? `${quoteIdent(typname.slice(1))}[]` : quoteIdent(typname);
}
