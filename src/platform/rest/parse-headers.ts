import type { Preferences } from "./ast.ts";
import { RestError } from "./errors.ts";

type Header = string | string[] | undefined;
const joined = (h: Header): string => (Array.isArray(h) ? h.join(",") : (h ?? ""));

const ALLOWED: Record<string, Set<string>> = {
  count: new Set(["exact", "planned", "estimated"]),
  return: new Set(["representation", "minimal", "headers-only"]),
  resolution: new Set(["merge-duplicates", "ignore-duplicates"]),
  missing: new Set(["default", "null"]),
  tx: new Set(["commit", "rollback"]),
};

/**
 * `Prefer: count=exact, return=representation` (one header or several). Preferences bough
 * does not know are ignored, as PostgREST does without `handling=strict`.
 */
export function parsePrefer(h: Header): Preferences {
  const out: Preferences = { singleObject: false };
  for (const part of joined(h).split(/[,;]/)) {
    const [k, v] = part
      .trim()
      .split("=", 2)
      .map((s) => s?.trim());
    if (k === "params" && v === "single-object") out.singleObject = true;
    else if (v && ALLOWED[k]?.has(v)) (out as unknown as Record<string, string>)[k] = v;
  }
  return out;
}

export interface Range {
  offset: number;
  limit?: number;
}

/** `Range: 0-9` (items, inclusive) → offset/limit; absent → undefined. */
export function parseRange(h: Header): Range | undefined {
  const text = joined(h).trim();
  if (text === "") return undefined;
  const m = /^(?:items=)?(\d{1,15})-(\d{0,15})$/.exec(text);
  if (!m) throw rangeError(`invalid Range header "${text.slice(0, 40)}"`);
  const from = Number(m[1]);
  if (m[2] === "") return { offset: from };
  const to = Number(m[2]);
  if (to < from) throw rangeError(`the Range header's end (${to}) is before its start (${from})`);
  return { offset: from, limit: to - from + 1 };
}

export const rangeError = (details: string) =>
  new RestError({
    status: 416,
    code: "PGRST103",
    message: "Requested range not satisfiable",
    details,
  });

/** What the response body is: a JSON array, or one object (`vnd.pgrst.object+json`). */
export interface Shape {
  single: boolean;
  stripNulls: boolean;
}

/** `Accept` → Shape; a media type bough cannot produce is a 406 (PGRST107). */
export function parseAccept(h: Header): Shape {
  const text = joined(h).trim();
  if (text === "") return { single: false, stripNulls: false };
  for (const part of text.split(",")) {
    const [type, ...params] = part.split(";").map((s) => s.trim().toLowerCase());
    const stripNulls = params.includes("nulls=stripped");
    if (type === "application/vnd.pgrst.object+json" || type === "application/vnd.pgrst.object")
      return { single: true, stripNulls };
    if (
      ["application/json", "application/vnd.pgrst.array+json", "*/*", "application/*"].includes(
        type,
      )
    )
      return { single: false, stripNulls };
  }
  throw new RestError({
    status: 406,
    code: "PGRST107",
    message: `None of these media types are available: ${text.slice(0, 100)}`,
  });
}

/**
 * The schema a request addresses: `Accept-Profile` (reads) or `Content-Profile` (writes),
 * else the first exposed schema; one not exposed is a 406 (PGRST106).
 */
export function pickSchema(h: Header, exposed: readonly string[]): string {
  const asked = joined(h).trim();
  if (asked === "") return exposed[0];
  if (exposed.includes(asked)) return asked;
  throw new RestError({
    status: 406,
    code: "PGRST106",
    message: `The schema must be one of the following: ${exposed.join(", ")}`,
  });
}
