import { BoughError, type ErrorCode } from "../core/errors.ts";

/**
 * The HTTP status of each BoughError code: the one place it is decided, for the server
 * and every service plugin (each shapes the body as its protocol does).
 */
export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case "INVALID_INPUT":
    case "INVALID_NAME":
    case "NOT_CONFIRMED":
    case "MIGRATION_REFUSED":
      return 400;
    case "UNAUTHORIZED":
      return 401;
    case "PROJECT_NOT_FOUND":
    case "BRANCH_NOT_FOUND":
    case "FUNCTION_NOT_FOUND":
    case "SCHEDULE_NOT_FOUND":
    case "ADMIN_KEY_NOT_FOUND":
    case "OPERATION_NOT_FOUND":
    case "MERGE_NOT_FOUND":
      return 404;
    case "ADMIN_KEY_EXISTS":
    case "PROJECT_EXISTS":
    case "BRANCH_EXISTS":
    case "SCHEDULE_EXISTS":
    case "BRANCH_PROTECTED":
    case "BRANCH_HAS_CHILDREN":
    case "MERGE_CONFLICT":
      return 409;
    case "BRANCH_BAD_STATE":
    case "BUSY":
    case "T0_MISSING":
      return 503;
    case "MERGE_FAILED":
    case "MIGRATION_FAILED":
    case "MASK_FAILED":
    case "CLUSTER_FAILED":
    case "CLONE_FAILED":
    case "ENVIRONMENT":
    case "RECOVERY_FAILED":
    case "INTERNAL":
      return 500;
  }
}

/** Status and message of anything a route threw: BoughErrors by code, Fastify's own 4xx kept. */
export function describeHttpError(err: unknown): { status: number; code: string; message: string } {
  if (err instanceof BoughError) {
    return { status: httpStatusOf(err.code), code: err.code, message: err.message };
  }
  const status = (err as { statusCode?: number }).statusCode;
  if (typeof status === "number" && status >= 400 && status < 500) {
    const code = String((err as { code?: string }).code ?? "BAD_REQUEST");
    return { status, code, message: (err as Error).message };
  }
  return { status: 500, code: "INTERNAL", message: "internal error" };
}

/**
 * The management API's status of a code: the platform's, except that a branch busy with
 * another operation is a conflict of the caller's request with that work (409), and a
 * home locked by another process is 423 Locked with a Retry-After, not a server outage.
 */
export function managementStatusOf(code: ErrorCode): { status: number; retryAfterS?: number } {
  switch (code) {
    case "BRANCH_BAD_STATE":
      return { status: 409, retryAfterS: 5 };
    case "BUSY":
      return { status: 423, retryAfterS: 5 };
    default:
      return { status: httpStatusOf(code) };
  }
}
