import { describeHttpError } from "../http-status.ts";

/**
 * An error as Supabase Storage reports it: `{ statusCode, error, message }` (statusCode a
 * string, as storage-api sends it; supabase-js surfaces message and statusCode).
 */
export class StorageError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
  ) {
    super(message);
    this.name = "StorageError";
  }
}

export const storageError = (status: number, error: string, message: string) =>
  new StorageError(status, error, message);

export const bucketNotFound = () => storageError(404, "Bucket not found", "Bucket not found");
export const objectNotFound = () => storageError(404, "not_found", "Object not found");

/** Postgres errors a request can cause, as Supabase Storage maps them; others pass through. */
export function fromPgError(err: unknown): unknown {
  const code = (err as { code?: string }).code;
  if (code === "23505") return storageError(409, "Duplicate", "The resource already exists");
  if (code === "42501") {
    return storageError(403, "Unauthorized", "new row violates row-level security policy");
  }
  if (code === "23503") {
    return storageError(409, "InvalidRequest", "The bucket you tried to delete is not empty");
  }
  return err;
}

/** Status and Storage-shaped body for anything a route threw. */
export function storageErrorBody(err: unknown): { status: number; body: Record<string, string> } {
  const e = fromPgError(err);
  if (e instanceof StorageError) {
    return {
      status: e.status,
      body: { statusCode: String(e.status), error: e.error, message: e.message },
    };
  }
  const d = describeHttpError(e);
  const validation = (e as { validation?: unknown }).validation !== undefined;
  const error = validation ? "InvalidRequest" : d.code === "UNAUTHORIZED" ? "Unauthorized" : d.code;
  return { status: d.status, body: { statusCode: String(d.status), error, message: d.message } };
}
