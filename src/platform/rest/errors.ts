import type { RequestRole } from "../request.ts";

/**
 * An error shaped as PostgREST shapes it: `{ code, message, details, hint }`, with either
 * Postgres' SQLSTATE or PostgREST's own PGRSTxxx code, and the HTTP status PostgREST gives.
 */
export class RestError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: string | null;
  readonly hint: string | null;

  constructor(o: {
    status: number;
    code: string;
    message: string;
    details?: string | null;
    hint?: string | null;
  }) {
    super(o.message);
    this.name = "RestError";
    this.status = o.status;
    this.code = o.code;
    this.details = o.details ?? null;
    this.hint = o.hint ?? null;
  }

  toJSON() {
    return { code: this.code, details: this.details, hint: this.hint, message: this.message };
  }
}

/** PGRST100: the query string does not parse. */
export const parseError = (what: string, details: string) =>
  new RestError({ status: 400, code: "PGRST100", message: `"failed to parse ${what}"`, details });

/** 42703 as Postgres words it, so clients see what PostgREST (which lets Postgres fail) shows. */
export const unknownColumn = (table: string, column: string) =>
  new RestError({
    status: 400,
    code: "42703",
    message: `column ${table}.${column} does not exist`,
  });

/** PGRST204: a payload, `columns=` or `on_conflict=` names a column the table lacks. */
export const unknownPayloadColumn = (table: string, column: string) =>
  new RestError({
    status: 400,
    code: "PGRST204",
    message: `Could not find the '${column}' column of '${table}' in the schema cache`,
  });

interface PgErrorLike {
  code?: unknown;
  message?: unknown;
  detail?: unknown;
  hint?: unknown;
}

const isPgError = (err: unknown): err is PgErrorLike & { code: string } =>
  typeof err === "object" &&
  err !== null &&
  typeof (err as PgErrorLike).code === "string" &&
  /^[0-9A-Z]{5}$/.test((err as PgErrorLike).code as string);

/**
 * PostgREST's SQLSTATE → HTTP status table (docs: "HTTP Status Codes"), with its one
 * identity-dependent case: insufficient privilege is 401 without a user, 403 with one.
 */
export function statusOfSqlState(code: string, role: RequestRole): number {
  switch (code) {
    case "23503":
    case "23505":
      return 409;
    case "25006":
      return 405;
    case "42883":
    case "42P01":
      return 404;
    case "42501":
      return role === "anon" ? 401 : 403;
    case "P0001":
      return 400;
  }
  const cls = code.slice(0, 2);
  if (["08", "53"].includes(cls)) return 503;
  if (["0L", "0P", "28"].includes(cls)) return 403;
  if (
    [
      "09",
      "25",
      "2D",
      "38",
      "39",
      "3B",
      "40",
      "54",
      "55",
      "57",
      "58",
      "F0",
      "HV",
      "P0",
      "XX",
    ].includes(cls)
  )
    return 500;
  return 400;
}

/** Any thrown value as a RestError: Postgres errors keep their SQLSTATE, the rest is a 500. */
export function toRestError(err: unknown, role: RequestRole): RestError {
  if (err instanceof RestError) return err;
  if (isPgError(err)) {
    return new RestError({
      status: statusOfSqlState(err.code, role),
      code: err.code,
      message: String(err.message ?? ""),
      details: typeof err.detail === "string" ? err.detail : null,
      hint: typeof err.hint === "string" ? err.hint : null,
    });
  }
  const sysCode = (err as { code?: unknown })?.code;
  if (typeof sysCode === "string" && /^E[A-Z]+$/.test(sysCode)) {
    // The branch's Postgres is unreachable (stopped, restarting): PostgREST's 503.
    return new RestError({
      status: 503,
      code: "PGRST001",
      message: "Database client error",
      details: sysCode,
      hint: "the branch's database is not reachable; retry in a moment",
    });
  }
  return new RestError({
    status: 500,
    code: "PGRSTX00",
    message: err instanceof Error ? err.message : String(err),
  });
}
