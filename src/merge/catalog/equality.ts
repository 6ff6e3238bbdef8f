import { createHash } from "node:crypto";
import type { DbObject, Snapshot } from "./snapshot.ts";

/** JSON with object keys sorted at every level, so equal data gives equal text. */
export function stableStringify(value: unknown): string {
  return write(value, NO_KEYS) as string;
}

const NO_KEYS: ReadonlySet<string> = new Set();
const WITHOUT_DEPS: ReadonlySet<string> = new Set(["deps"]);
const COLUMN_WITHOUT: ReadonlySet<string> = new Set(["deps", "position"]);

/**
 * What `JSON.stringify` of a copy with sorted keys prints, written directly: a merge
 * serialises every object of three snapshots, and the copies cost more than the text.
 * A copy's integer-like keys come first in numeric order (JavaScript orders them so
 * whatever the insertion order), which Object.keys already gives; the rest are sorted.
 * `omit` names top-level keys left out.
 */
function write(value: unknown, omit: ReadonlySet<string>): string | undefined {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
    case "number":
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "object":
      break;
    default:
      // undefined, functions and symbols: left out of objects, null in arrays.
      return undefined;
  }
  if (Array.isArray(value)) {
    let out = "[";
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ",";
      out += write(value[i], NO_KEYS) ?? "null";
    }
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  let out = "{";
  let first = true;
  for (const key of sortedKeys(record)) {
    if (omit.has(key)) continue;
    const text = write(record[key], NO_KEYS);
    if (text === undefined) continue;
    out += `${first ? "" : ","}${JSON.stringify(key)}:${text}`;
    first = false;
  }
  return `${out}}`;
}

/** Keys in the order a copy with sorted keys lists them (integer-like ones first, ascending). */
function sortedKeys(record: Record<string, unknown>): string[] {
  const keys = Object.keys(record);
  let ints = 0;
  while (ints < keys.length && isArrayIndex(keys[ints])) ints++;
  if (ints === 0) return keys.sort();
  return [...keys.slice(0, ints), ...keys.slice(ints).sort()];
}

/** Distinct keys in sortedKeys' order: integer-like ones ascending, then the rest sorted. */
function inWriteOrder(keys: string[]): string[] {
  if (!keys.some(isArrayIndex)) return keys.sort();
  const ints = keys.filter(isArrayIndex).sort((a, b) => Number(a) - Number(b));
  return [...ints, ...keys.filter((k) => !isArrayIndex(k)).sort()];
}

const isArrayIndex = (k: string) => {
  const c = k.charCodeAt(0);
  // Most keys start with a letter: skip the pattern for them.
  return c >= 48 && c <= 57 && /^(0|[1-9][0-9]*)$/u.test(k) && Number(k) < 2 ** 32 - 1;
};

/** The fields that make two objects of one identity the same object (no deps, no position). */
export function comparable(obj: DbObject): string {
  let text = comparableCache.get(obj);
  if (text === undefined) {
    text = listedStringify(obj, obj.kind === "column" ? COLUMN_WITHOUT : WITHOUT_DEPS);
    comparableCache.set(obj, text);
  }
  return text;
}

/**
 * write()'s text from the native serialiser: given the list of every key in the value,
 * in write()'s order, JSON.stringify prints exactly those, in that order, at every
 * level. Falls back to write() where a list cannot say it: a nested key named like a left
 * out one, or `__proto__` (read through the prototype where an object lacks it).
 */
function listedStringify(value: object, omit: ReadonlySet<string>): string {
  const keys = new Set<string>();
  let nested = false;
  for (const key of Object.keys(value)) {
    if (!omit.has(key)) keys.add(key);
    const v = (value as Record<string, unknown>)[key];
    if (v !== null && typeof v === "object" && !omit.has(key)) {
      nested = true;
      collectKeys(v, keys);
    }
  }
  if (keys.has("__proto__") || (nested && [...omit].some((k) => keys.has(k)))) {
    return write(value, omit) as string;
  }
  return JSON.stringify(value, inWriteOrder([...keys]));
}

function collectKeys(value: object, into: Set<string>): void {
  const items = Array.isArray(value) ? value : Object.values(value);
  if (!Array.isArray(value)) for (const key of Object.keys(value)) into.add(key);
  for (const v of items) if (v !== null && typeof v === "object") collectKeys(v, into);
}

// Snapshots are never mutated once made, so what is derived from one object is kept
// with it: a merge compares every object of three snapshots several times.
const comparableCache = new WeakMap<DbObject, string>();
const hashCache = new WeakMap<Snapshot, string>();

export function sameObject(a: DbObject | undefined, b: DbObject | undefined): boolean {
  if (!a || !b) return a === b;
  return comparable(a) === comparable(b);
}

/** Everything a merge must make equal: objects (comparable fields), policies and config rows. */
export function comparableSnapshot(s: Snapshot): string {
  return comparableChunks(s).join("");
}

/**
 * comparableSnapshot's text in pieces, one per object, so hashing it never builds one
 * string of the whole schema: the stable JSON of `{ data, objects, policies }` with each
 * object's comparable text as a string value.
 */
function comparableChunks(s: Snapshot): string[] {
  // Keys absent from an old snapshot are left out, as JSON.stringify leaves out undefined.
  const data = write(s.data, NO_KEYS);
  const policies = write(s.policies, NO_KEYS);
  const out = [`{${data === undefined ? "" : `"data":${data},`}"objects":{`];
  let first = true;
  for (const id of sortedKeys(s.objects)) {
    const text = JSON.stringify(comparable(s.objects[id]));
    out.push(`${first ? "" : ","}${JSON.stringify(id)}:${text}`);
    first = false;
  }
  out.push(`}${policies === undefined ? "" : `,"policies":${policies}`}}`);
  return out;
}

export function snapshotsEqual(a: Snapshot, b: Snapshot): boolean {
  return comparableSnapshot(a) === comparableSnapshot(b);
}

/** sha256 of the comparable snapshot: what a plan records of the schema it was made for. */
export function snapshotHash(s: Snapshot): string {
  let hash = hashCache.get(s);
  if (hash === undefined) {
    const sha = createHash("sha256");
    for (const chunk of comparableChunks(s)) sha.update(chunk);
    hash = sha.digest("hex");
    hashCache.set(s, hash);
  }
  return hash;
}

/** Ids (objects, `policy:S.T`, `data:S.T`) whose comparable content differs, sorted. */
export function differingIds(a: Snapshot, b: Snapshot): string[] {
  const out: string[] = [];
  // Each side's ids once, no union of both built: snapshots hold 100k+ objects.
  for (const id of Object.keys(a.objects)) {
    const y = b.objects[id];
    if (!y || comparable(a.objects[id]) !== comparable(y)) out.push(id);
  }
  for (const id of Object.keys(b.objects)) if (!a.objects[id]) out.push(id);
  for (const [prefix, left, right] of [
    ["policy", a.policies, b.policies],
    ["data", a.data, b.data],
  ] as const) {
    for (const key of new Set([...Object.keys(left), ...Object.keys(right)])) {
      if (stableStringify(left[key]) !== stableStringify(right[key])) out.push(`${prefix}:${key}`);
    }
  }
  return out.sort();
}
