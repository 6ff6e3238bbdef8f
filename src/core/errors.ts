/**
 * The one error type bough throws on purpose. `code` is stable (scripts and the
 * HTTP API rely on it); `message` says what went wrong, `hint` what to do.
 * Each interface maps `code` to its exit code / HTTP status in exactly one place.
 *
 * @example throw new BoughError("BRANCH_NOT_FOUND", `branch "x" does not exist`, "run `bough branch list`")
 */
export type ErrorCode =
  | "INVALID_INPUT"
  | "INVALID_NAME"
  | "PROJECT_NOT_FOUND"
  | "PROJECT_EXISTS"
  | "BRANCH_NOT_FOUND"
  | "FUNCTION_NOT_FOUND"
  | "BRANCH_EXISTS"
  | "BRANCH_PROTECTED"
  | "BRANCH_HAS_CHILDREN"
  | "BRANCH_BAD_STATE"
  | "BUSY"
  | "MERGE_CONFLICT"
  | "MERGE_FAILED"
  | "MIGRATION_FAILED"
  | "MIGRATION_REFUSED"
  | "MASK_FAILED"
  | "CLUSTER_FAILED"
  | "CLONE_FAILED"
  | "T0_MISSING"
  | "RECOVERY_FAILED"
  | "ENVIRONMENT"
  | "NOT_CONFIRMED"
  | "UNAUTHORIZED"
  | "SCHEDULE_NOT_FOUND"
  | "SCHEDULE_EXISTS"
  | "ADMIN_KEY_EXISTS"
  | "ADMIN_KEY_NOT_FOUND"
  | "OPERATION_NOT_FOUND"
  | "MERGE_NOT_FOUND"
  | "INTERNAL";

export class BoughError extends Error {
  readonly code: ErrorCode;
  readonly hint: string;
  readonly details?: unknown;

  constructor(code: ErrorCode, message: string, hint: string, details?: unknown) {
    super(message);
    this.name = "BoughError";
    this.code = code;
    this.hint = hint;
    this.details = details;
  }
}

/** Classes of failure every interface maps from; the CLI maps them to exit codes. */
export type ErrorClass = "usage" | "conflict" | "failure";

export function errorClass(code: ErrorCode): ErrorClass {
  switch (code) {
    case "INVALID_INPUT":
    case "INVALID_NAME":
    case "NOT_CONFIRMED":
      return "usage";
    case "MERGE_CONFLICT":
      return "conflict";
    default:
      return "failure";
  }
}

/** Wraps anything thrown into a BoughError so interfaces handle one type. */
export function toBoughError(err: unknown): BoughError {
  if (err instanceof BoughError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  if (code === "ENOSPC" || code === "SQLITE_FULL" || code === "SQLITE_READONLY") {
    // SQLITE_READONLY: the control plane was opened as a snapshot because the disk is full.
    return new BoughError(
      "ENVIRONMENT",
      `no space left to write: ${message}`,
      "free disk space under the bough home, then retry (read-only commands work meanwhile)",
    );
  }
  return new BoughError(
    "INTERNAL",
    message,
    "this is a bug or an environment problem; re-run with BOUGH_DEBUG=1 for the stack trace",
  );
}
