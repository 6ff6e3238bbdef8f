import { describeHttpError } from "../http-status.ts";

/**
 * An error as GoTrue reports it: `{ code, error_code, msg }` (supabase-js reads error_code),
 * or OAuth-style `{ error, error_description }` on the token endpoint where GoTrue uses it.
 */
export class AuthError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    readonly oauth = false,
  ) {
    super(message);
    this.name = "AuthError";
  }
}

export const authError = (status: number, errorCode: string, message: string) =>
  new AuthError(status, errorCode, message);

/** The status and GoTrue-shaped body for anything a route threw. */
export function authErrorBody(err: unknown): { status: number; body: Record<string, unknown> } {
  if (err instanceof AuthError) {
    if (err.oauth) {
      return { status: err.status, body: { error: err.errorCode, error_description: err.message } };
    }
    const body: Record<string, unknown> = {
      code: err.status,
      error_code: err.errorCode,
      msg: err.message,
    };
    const reasons = (err as { reasons?: string[] }).reasons;
    if (reasons) body.weak_password = { reasons };
    return { status: err.status, body };
  }
  const e = describeHttpError(err);
  const validation = (err as { validation?: unknown }).validation !== undefined;
  const errorCode = validation
    ? "validation_failed"
    : e.code === "UNAUTHORIZED"
      ? "bad_jwt"
      : e.code.toLowerCase();
  return { status: e.status, body: { code: e.status, error_code: errorCode, msg: e.message } };
}
