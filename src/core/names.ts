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

/** Where a user name of the Postgres proxy points: the role to log in as, branch and project. */
export interface ProxyTarget {
  role: string;
  /** null: main. */
  branch: string | null;
  /** null: the project `bough up` serves. */
  project: string | null;
}

/**
 * The proxy's user-name scheme: `role`, `role.branch` or `role.branch.project`. The role
 * ends at the FIRST dot: branch and project names cannot contain dots, so every name
 * splits one way only. A role whose name has a dot picks its branch with
 * `options=-c bough.branch=NAME` instead (then the user name is taken as it is).
 */
export function parseProxyUser(user: string): ProxyTarget {
  const [role, branch, project, ...rest] = user.split(".");
  if (rest.length > 0 || branch === "" || project === "") {
    throw new BoughError(
      "INVALID_NAME",
      `user name ${JSON.stringify(user)} is not role, role.branch or role.branch.project`,
      "branch and project names have no dots; a role with dots picks its branch with options=-c bough.branch=NAME",
    );
  }
  if (branch !== undefined) validateName("branch", branch);
  if (project !== undefined) validateName("project", project);
  return { role, branch: branch ?? null, project: project ?? null };
}

/** The proxy user name for a target, the inverse of parseProxyUser. */
export function proxyUser(t: ProxyTarget): string {
  return [t.role, t.branch ?? (t.project ? "main" : null), t.project].filter(Boolean).join(".");
}

/** Quotes an identifier for SQL the way quote_ident does, always. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Quotes a string literal for SQL (standard_conforming_strings on). */
export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
