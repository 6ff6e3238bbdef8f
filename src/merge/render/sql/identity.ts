import type { ColumnObject, IdentityOptions } from "../../catalog/snapshot.ts";

/** The range of each type an identity column may have (Postgres allows only these three). */
const RANGES: Record<string, { min: string; max: string }> = {
  smallint: { min: "-32768", max: "32767" },
  integer: { min: "-2147483648", max: "2147483647" },
  bigint: { min: "-9223372036854775808", max: "9223372036854775807" },
};

/** What Postgres picks for an identity of `type` given only its increment (CREATE SEQUENCE rules). */
export function identityDefaults(type: string, increment: string): IdentityOptions | null {
  const range = RANGES[type];
  if (!range) return null;
  const ascending = !increment.startsWith("-");
  const min = ascending ? "1" : range.min;
  const max = ascending ? range.max : "-1";
  return { start: ascending ? min : max, increment, min, max, cache: "1", cycle: false };
}

type Option = keyof IdentityOptions;

/** In CREATE SEQUENCE order; INCREMENT first because the defaults of the others follow from it. */
const ORDER: Option[] = ["increment", "min", "max", "start", "cache", "cycle"];

function optionText(k: Option, o: IdentityOptions): string {
  switch (k) {
    case "increment":
      return `INCREMENT BY ${o.increment}`;
    case "min":
      return `MINVALUE ${o.min}`;
    case "max":
      return `MAXVALUE ${o.max}`;
    case "start":
      return `START WITH ${o.start}`;
    case "cache":
      return `CACHE ${o.cache}`;
    case "cycle":
      return o.cycle ? "CYCLE" : "NO CYCLE";
  }
}

/** The options of `c` that Postgres would not pick by itself, e.g. ["START WITH 1000"]. */
function explicitOptions(c: ColumnObject): string[] {
  const o = c.identityOptions;
  if (!o) return [];
  // The other defaults follow from the increment, whose own default is 1.
  const d = identityDefaults(c.type, o.increment);
  const implicit = (k: Option) => (k === "increment" ? o.increment === "1" : d?.[k] === o[k]);
  return ORDER.filter((k) => !implicit(k)).map((k) => optionText(k, o));
}

/** `GENERATED ALWAYS AS IDENTITY [(options)]`, for CREATE TABLE, ADD COLUMN and ADD GENERATED. */
export function identityClause(c: ColumnObject): string {
  const kind = c.identity === "always" ? "ALWAYS" : "BY DEFAULT";
  const opts = explicitOptions(c);
  return `GENERATED ${kind} AS IDENTITY${opts.length > 0 ? ` (${opts.join(" ")})` : ""}`;
}

/**
 * `SET INCREMENT BY 5 SET START WITH 1000 ...` for the options that changed between two
 * identity columns, or null. START only changes what a RESTART would go back to: the
 * parent's current value is its own (its rows used it), so a merge never restarts it.
 */
export function identitySetOptions(before: ColumnObject, after: ColumnObject): string | null {
  const a = after.identityOptions;
  if (!a) return null;
  // A base snapshot without options (an older bough) is compared with Postgres' defaults.
  const b = before.identityOptions ?? identityDefaults(before.type, a.increment);
  const changed = ORDER.filter((k) => !b || b[k] !== a[k]);
  return changed.length > 0 ? changed.map((k) => `SET ${optionText(k, a)}`).join(" ") : null;
}
