import { createHash } from "node:crypto";
import type { DbObject, Snapshot } from "./snapshot.ts";

/** JSON with object keys sorted at every level, so equal data gives equal text. */
export function stableStringify(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      out[key] = sortKeys((value as Record<string, unknown>)[key]);
    }
    return out;
  }
  return value;
}

/** The fields that make two objects of one identity the same object (no deps, no position). */
export function comparable(obj: DbObject): string {
  let text = comparableCache.get(obj);
  if (text === undefined) {
    const { deps: _deps, ...rest } = obj;
    if (rest.kind === "column") {
      const { position: _position, ...column } = rest;
      text = stableStringify(column);
    } else {
      text = stableStringify(rest);
    }
    comparableCache.set(obj, text);
  }
  return text;
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
  const objects: Record<string, string> = {};
  for (const id of Object.keys(s.objects).sort()) objects[id] = comparable(s.objects[id]);
  return stableStringify({ objects, policies: s.policies, data: s.data });
}

export function snapshotsEqual(a: Snapshot, b: Snapshot): boolean {
  return comparableSnapshot(a) === comparableSnapshot(b);
}

/** sha256 of the comparable snapshot: what a plan records of the schema it was made for. */
export function snapshotHash(s: Snapshot): string {
  let hash = hashCache.get(s);
  if (hash === undefined) {
    hash = createHash("sha256").update(comparableSnapshot(s)).digest("hex");
    hashCache.set(s, hash);
  }
  return hash;
}

/** Ids (objects, `policy:S.T`, `data:S.T`) whose comparable content differs, sorted. */
export function differingIds(a: Snapshot, b: Snapshot): string[] {
  const out: string[] = [];
  for (const id of new Set([...Object.keys(a.objects), ...Object.keys(b.objects)])) {
    const x = a.objects[id];
    const y = b.objects[id];
    if (!x || !y || comparable(x) !== comparable(y)) out.push(id);
  }
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
