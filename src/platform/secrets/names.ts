import { BoughError } from "../../core/errors.ts";

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,255}$/;

/** A secret becomes an environment variable: an env var name, not one the platform sets itself. */
export function validateSecretName(name: string): string {
  if (!ENV_NAME.test(name)) {
    throw new BoughError(
      "INVALID_NAME",
      `invalid secret name ${JSON.stringify(name)}`,
      "secret names are environment variable names: a letter or '_', then letters, digits or '_'",
    );
  }
  if (/^SUPABASE_/i.test(name)) {
    throw new BoughError(
      "INVALID_NAME",
      `secret name "${name}" is reserved`,
      "SUPABASE_* variables are set by the platform for each branch; pick another name",
    );
  }
  return name;
}
