import type pg from "pg";
import { DDL_LOG_PRESENT } from "./schema.ts";

/** One object a DDL statement created, altered or dropped (from the event trigger functions). */
export interface DdlObject {
  /** The command that touched it (`CREATE TABLE`, `ALTER TABLE`, ...) or `dropped`. */
  action: string;
  /** Postgres' object type: `table`, `index`, `table column`, `function`, ... */
  type: string;
  schema: string | null;
  /** Postgres' object identity, e.g. `public.orders` or `public.orders.note` (null for a GRANT). */
  identity: string | null;
  /** Names of the object it belongs to (a relation, a function, a type, a schema). */
  target: string[] | null;
}

/** One recorded DDL statement. */
export interface DdlEntry {
  id: number;
  at: string;
  /** The login role, the role in effect (after SET ROLE) and the client's application_name. */
  sessionUser: string;
  currentUser: string;
  applicationName: string;
  commandTag: string;
  /** The client's query text (the whole query string when it held several statements; cut at 20000 chars). */
  statement: string;
  objects: DdlObject[];
}

interface Row {
  id: string;
  at: Date;
  session_user_name: string;
  current_user_name: string;
  application_name: string;
  command_tag: string;
  statement: string;
  objects: DdlObject[];
}

/**
 * The DDL this cluster ran itself, oldest first (rows a clone inherited carry its
 * parent's data directory, so they are left out), optionally since an ISO instant.
 * Empty where the log is not installed yet. Reads data_directory: superuser.
 */
export async function readDdlLog(
  client: pg.ClientBase,
  o: { since?: string } = {},
): Promise<DdlEntry[]> {
  const present = await client.query<{ ok: boolean }>(`SELECT ${DDL_LOG_PRESENT} AS ok`);
  if (!present.rows[0].ok) return [];
  const { rows } = await client.query<Row>(
    `SELECT id, at, session_user_name, current_user_name, application_name, command_tag,
            statement, objects
       FROM bough.ddl_log
      WHERE cluster = current_setting('data_directory')
        AND ($1::timestamptz IS NULL OR at >= $1::timestamptz)
      ORDER BY id`,
    [o.since ?? null],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    at: r.at.toISOString(),
    sessionUser: r.session_user_name,
    currentUser: r.current_user_name,
    applicationName: r.application_name,
    commandTag: r.command_tag,
    statement: r.statement,
    objects: r.objects,
  }));
}
