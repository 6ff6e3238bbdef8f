import { idPart, splitQualified } from "../catalog/ids.ts";
import { DEFAULT_ACL_OBJECTS } from "../introspect/default-privileges.ts";
import { keyPrefix } from "./modelled.ts";
import type { Fingerprint } from "./types.ts";

/**
 * What the merge does with a branch change the snapshot does not model: `refuse` blocks
 * the merge (dropping the change would change what the database does: who may do what,
 * how queries are rewritten or resolved, what a type or table is); `warn` merges without
 * it and says so (the change only informs the planner, places data on disk or documents).
 */
export type Severity = "refuse" | "warn";

interface Rule {
  /** Plural noun for "bough does not merge … yet". */
  noun: string;
  severity: Severity;
}

const refuse = (noun: string): Rule => ({ noun, severity: "refuse" });
const warn = (noun: string): Rule => ({ noun, severity: "warn" });

/** Whole entries of these kinds (created, dropped or changed). */
const ENTRY_RULES: Record<string, Rule> = {
  foreign_table: refuse("foreign tables"),
  security_label: refuse("security labels"),
  object: refuse("these objects"),
  // A comment on an object bough does not model (an operator, a foreign table) is documentation.
  comment: warn("comments on objects it does not model"),
};

/** One field of an entry of a modelled kind, by `prefix.field` (then by field). */
const FIELD_RULES: Record<string, Rule> = {
  "class.access_method": refuse("table access methods"),
  "class.of_type": refuse("typed tables (OF type)"),
  "class.tablespace": warn("tablespaces"),
  "column.compression": warn("column compression"),
  "column.options": warn("column options (n_distinct)"),
  "column.fdw_options": refuse("foreign table column options"),
  "not_null.validated": refuse("NOT VALID not-null constraints"),
  "not_null.no_inherit": refuse("NO INHERIT not-null constraints"),
  "index.clustered": warn("CLUSTER marks"),
};

/** A change of a modelled kind the snapshot did not see: a gap in the model, never dropped. */
const GAP = refuse("this change");

/** Kinds of relations and types (the entry's `kind` field) the snapshot has no object for. */
const KIND_RULES: Record<string, Rule> = {
  "class.f": refuse("foreign tables"),
};

/** The rule for `field` of the entry `key` (CREATED / DROPPED for a whole entry) of catalog kind `kind`. */
export function ruleOf(key: string, field: string, kind?: string): Rule {
  const prefix = keyPrefix(key);
  return (
    ENTRY_RULES[prefix] ??
    FIELD_RULES[`${prefix}.${field}`] ??
    FIELD_RULES[field] ??
    KIND_RULES[`${prefix}.${kind}`] ??
    GAP
  );
}

export const severityOf = (key: string, field: string): Severity => ruleOf(key, field).severity;

/** Default values of fields of warned kinds, to tell a new object's own settings from defaults. */
export const WARNED_DEFAULTS: Record<string, string | null> = {
  compression: "",
  options: null,
  tablespace: null,
  clustered: "false",
};

const CLASS_WORDS: Record<string, string> = {
  r: "table",
  p: "partitioned table",
  v: "view",
  m: "materialized view",
  S: "sequence",
  f: "foreign table",
  c: "type",
};

const TYPE_WORDS: Record<string, string> = {
  e: "enum",
  d: "domain",
  c: "composite type",
  r: "range type",
};

/** `a.b.c` → "c on a.b" style parts, names kept as ids write them. */
function names(text: string): string[] {
  return (splitQualified(text) ?? [text]).map(idPart);
}

/** Splits at `sep` outside double quotes. */
function splitOutsideQuotes(text: string, sep: string): string[] {
  const out: string[] = [];
  let [cur, quoted] = ["", false];
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    if (ch === sep && !quoted) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  return [...out, cur];
}

/** The object an entry stands for, in words: "rule r on public.t", "table public.t". */
export function objectWords(key: string, fp: Fingerprint[]): string {
  const prefix = keyPrefix(key);
  const rest = key.slice(prefix.length + 1);
  const kind = fp.map((f) => f.entries[key]?.fields.kind).find((k) => k);
  const member = (word: string) => {
    const n = names(rest);
    return `${word} ${n.at(-1)} on ${n.slice(0, -1).join(".")}`;
  };
  switch (prefix) {
    case "class":
      return `${CLASS_WORDS[kind ?? ""] ?? "relation"} ${rest}`;
    case "type":
      return `${TYPE_WORDS[kind ?? ""] ?? "type"} ${rest}`;
    case "column":
      return member("column");
    case "identity":
      return `the identity of ${member("column")}`;
    case "not_null":
      return `the NOT NULL constraint of ${member("column")}`;
    case "constraint":
    case "trigger":
    case "policy":
    case "rule":
      return member(prefix);
    case "range":
      return `range type ${rest}`;
    case "statistics": {
      const on = fp.map((f) => f.entries[key]?.on).find((o) => o);
      return `statistics ${rest}${on ? ` on ${on.slice(on.indexOf(":") + 1)}` : ""}`;
    }
    case "foreign_table":
      return `foreign table ${rest}`;
    case "default_acl": {
      const [role, schema, type] = splitOutsideQuotes(rest, ":");
      const where = schema ? ` in schema ${schema}` : "";
      return `the default privileges of ${role}${where} on ${DEFAULT_ACL_OBJECTS[type] ?? type}`;
    }
    case "publication_rel": {
      const [p, t] = splitOutsideQuotes(rest, ":");
      return `table ${t} in publication ${p}`;
    }
    case "publication_schema": {
      const [p, s] = splitOutsideQuotes(rest, ":");
      return `schema ${s} in publication ${p}`;
    }
    case "object":
      return rest;
    case "comment":
      return `the comment on ${objectWords(rest, fp)}`;
    case "security_label": {
      const at = splitOutsideQuotes(rest, ":");
      return `the ${at[0]} security label on ${objectWords(at.slice(1).join(":"), fp)}`;
    }
    case "event_trigger":
      return `event trigger ${rest}`;
    default:
      return `${prefix.replaceAll("_", " ")} ${rest}`;
  }
}

const FIELD_WORDS: Record<string, string> = {
  replica_identity: "replica identity",
  statistics_target: "statistics target",
  access_method: "access method",
  of_type: "row type (OF)",
  fdw_options: "foreign-data options",
  no_inherit: "NO INHERIT flag",
  validated: "validation",
  clustered: "CLUSTER mark",
};

/**
 * One sentence for people and every interface, e.g. "the branch created range type
 * public.span; bough does not merge range types yet: add it to a migration (bough migrate apply)".
 */
export function unmodelledMessage(o: {
  key: string;
  fields: string[];
  details: string[];
  fingerprints: Fingerprint[];
}): string {
  const what = objectWords(o.key, o.fingerprints);
  const kind = o.fingerprints.map((f) => f.entries[o.key]?.fields.kind).find((k) => k);
  const [first] = o.fields;
  const whole = first === "(created)" || first === "(dropped)";
  const change = whole
    ? `${first.slice(1, -1)} ${what}`
    : `changed the ${o.fields.map((f) => FIELD_WORDS[f] ?? f).join(", ")} of ${what} (${o.details.join("; ")})`;
  const nouns = [...new Set(o.fields.map((f) => ruleOf(o.key, f, kind ?? undefined).noun))].join(
    ", ",
  );
  const warned = o.fields.every((f) => severityOf(o.key, f) === "warn");
  const tail = warned
    ? "merged without it: make it on the parent or in a migration if it matters"
    : "add it to a migration (bough migrate apply) or undo it on the branch";
  return `the branch ${change}; bough does not merge ${nouns} yet: ${tail}`;
}
