import { BoughError } from "./errors.ts";

const NAME_RULE =
  "names are 1-63 characters: lowercase letters, digits and hyphens, starting with a letter (e.g. feature-login)";
const NAME_RE = /^[a-z][a-z0-9-]{0,62}$/;

/** Validates a project, branch, schedule or admin key name; the rule keeps names safe as paths and Postgres identifiers. */
export function validateName(
  kind: "branch" | "project" | "schedule" | "admin key",
  name: string,
): string {
  if (!NAME_RE.test(name)) {
    throw new BoughError("INVALID_NAME", `invalid ${kind} name ${JSON.stringify(name)}`, NAME_RULE);
  }
  return name;
}

/** Quotes an identifier for SQL the way quote_ident does, always. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Quotes a string literal for SQL (standard_conforming_strings on). */
export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
