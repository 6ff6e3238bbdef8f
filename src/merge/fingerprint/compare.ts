import { isModelled, isModelledOnOwner } from "./modelled.ts";
import type { Fingerprint, FingerprintEntry } from "./types.ts";
import {
  objectWords,
  type Severity,
  severityOf,
  unmodelledMessage,
  WARNED_DEFAULTS,
} from "./unmodelled.ts";

/** Pseudo-fields of an entry that exists on one side only. */
export const CREATED = "(created)";
export const DROPPED = "(dropped)";

/** One entry of a fingerprint that differs, and which of its fields. */
export interface EntryChange {
  key: string;
  fields: string[];
}

/** A change the merge cannot carry (prepare) or did not carry (rehearsal), for people and JSON. */
export interface FingerprintProblem {
  key: string;
  /** The differing fields; CREATED / DROPPED for a whole entry. */
  fields: string[];
  /** e.g. `owner: "alice" on the branch, "postgres" after the merge`. */
  details: string[];
  /** refuse: the merge is blocked; warn: it goes on without the change (see unmodelled.ts). */
  severity: Severity;
  /** The change in words, by name, with what to do (what every interface shows). */
  message: string;
}

/** Entries of `b` that differ from `a`, in key order. */
export function changedEntries(a: Fingerprint, b: Fingerprint): EntryChange[] {
  const out: EntryChange[] = [];
  // Each side's keys once (no sorted union of 100k+ keys); the few changes are sorted.
  const add = (key: string) => {
    const fields = differingFields(a.entries[key], b.entries[key]);
    if (fields.length > 0) out.push({ key, fields });
  };
  for (const key of Object.keys(a.entries)) add(key);
  for (const key of Object.keys(b.entries)) if (!Object.hasOwn(a.entries, key)) add(key);
  return out.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
}

function differingFields(x: FingerprintEntry | undefined, y: FingerprintEntry | undefined) {
  if (!x && !y) return [];
  if (!x) return [CREATED];
  if (!y) return [DROPPED];
  if (sameFields(x.fields, y.fields)) return [];
  const names = [...new Set([...Object.keys(x.fields), ...Object.keys(y.fields)])].sort();
  return names.filter((f) => (x.fields[f] ?? null) !== (y.fields[f] ?? null));
}

/** No field differs (a missing field reads as null): the common case, without building name sets. */
function sameFields(x: FingerprintEntry["fields"], y: FingerprintEntry["fields"]): boolean {
  for (const f in x) if ((x[f] ?? null) !== (y[f] ?? null)) return false;
  for (const f in y) if (!Object.hasOwn(x, f) && (y[f] ?? null) !== null) return false;
  return true;
}

/** The entry stands for another snapshot object than at the base (its kind changed). */
function replaced(key: string, base: Fingerprint, branch: Fingerprint): boolean {
  const [b, n] = [base.entries[key], branch.entries[key]];
  return b !== undefined && n !== undefined && b.sid !== n.sid;
}

/** Whether `side` already has what the branch has for `field` of `key`. */
function sameAs(side: Fingerprint, branch: Fingerprint, key: string, field: string): boolean {
  const s = side.entries[key];
  const b = branch.entries[key];
  if (field === CREATED || field === DROPPED)
    return differingFields(s, b).length === 0 && !s === !b;
  return (
    s !== undefined && b !== undefined && (s.fields[field] ?? null) === (b.fields[field] ?? null)
  );
}

/**
 * What the branch changed since the base (by the catalogs) that no modelled change
 * explains: a change is explained when the parent (after the replayed migrations) already
 * has it, when it goes away with an entry the branch dropped, or when its snapshot object
 * is among `changedIds` (the snapshot saw it) and every differing field is one the
 * snapshot models. Anything else would be reported merged and lost.
 */
export function unexplainedChanges(o: {
  base: Fingerprint;
  branch: Fingerprint;
  parent: Fingerprint;
  changedIds: ReadonlySet<string>;
}): FingerprintProblem[] {
  const out: FingerprintProblem[] = [];
  for (const change of changedEntries(o.base, o.branch)) {
    const fields = change.fields.filter((f) => !sameAs(o.parent, o.branch, change.key, f));
    if (fields.length === 0) continue;
    const entry = o.branch.entries[change.key] ?? o.base.entries[change.key];
    if (replaced(change.key, o.base, o.branch)) {
      // Another kind of object under the same name (a table become a view): all of it is new.
      if (entry.sid !== null && o.changedIds.has(entry.sid)) continue;
    }
    if (fields[0] === DROPPED && entry.on !== null && !o.branch.entries[entry.on]) continue;
    // The snapshot saw the object change: its modelled fields are carried by the plan.
    const seen =
      entry.sid !== null
        ? o.changedIds.has(entry.sid)
        : (entry.partOf ?? []).some((id) => o.changedIds.has(id));
    const owner =
      entry.on === null ? undefined : (o.branch.entries[entry.on] ?? o.base.entries[entry.on]);
    const ownerSeen = owner?.sid != null && o.changedIds.has(owner.sid);
    const carried = (f: string) =>
      (seen && isModelled(change.key, f)) || (ownerSeen && isModelledOnOwner(change.key, f));
    // An owner's grants name it as grantor: they change with it and are not a change of their own.
    const lost = fields.filter(
      (f) => !carried(f) && !(f === "acl" && fields.includes("owner") && !carried("owner")),
    );
    // A new object's own settings of warned kinds (compression of a new column) are not carried either.
    if (seen && fields[0] === CREATED) lost.push(...nonDefaultWarned(change.key, o.branch));
    for (const severity of ["refuse", "warn"] as const) {
      const mine = lost.filter((f) => severityOf(change.key, f) === severity);
      if (mine.length === 0) continue;
      const details = describe(change.key, mine, o.base, o.branch, "at the merge base");
      const fingerprints = [o.branch, o.base];
      out.push({
        key: change.key,
        fields: mine,
        details,
        severity,
        message: unmodelledMessage({ key: change.key, fields: mine, details, fingerprints }),
      });
    }
  }
  return withoutParts(out, o.branch, o.base);
}

/** A created or dropped entry whose owner (a foreign table's column) is reported the same way is part of it. */
function withoutParts(
  problems: FingerprintProblem[],
  ...sides: Fingerprint[]
): FingerprintProblem[] {
  const whole = new Map(
    problems
      .filter((p) => p.fields[0] === CREATED || p.fields[0] === DROPPED)
      .map((p) => [p.key, p.fields[0]]),
  );
  return problems.filter((p) => {
    const on = sides.map((s) => s.entries[p.key]?.on).find((x) => x);
    return !(on && whole.has(on) && whole.get(on) === p.fields[0] && whole.has(p.key));
  });
}

/** Fields of a created entry, of warned kinds, that the branch set away from their default. */
function nonDefaultWarned(key: string, branch: Fingerprint): string[] {
  const fields = branch.entries[key]?.fields ?? {};
  return Object.keys(WARNED_DEFAULTS).filter(
    (f) =>
      f in fields &&
      !isModelled(key, f) &&
      severityOf(key, f) === "warn" &&
      (fields[f] ?? null) !== WARNED_DEFAULTS[f],
  );
}

/** Merged without it, and said so at prepare (unexplainedChanges): not a loss of the plan's. */
const warned = (key: string, f: string, entry: FingerprintEntry | undefined) =>
  (entry?.sid === null || !isModelled(key, f)) && severityOf(key, f) === "warn";

/**
 * What the branch changed since the base that the rehearsed parent does not have as the
 * branch has it: the plan lost (part of) a change, whatever the snapshot says. A modelled
 * field the parent changed too was merged three-way by the diff (enum labels of both
 * sides): it is the snapshot's convergence check that proves it, not the branch's value.
 */
export function lostChanges(o: {
  base: Fingerprint;
  branch: Fingerprint;
  rehearsed: Fingerprint;
  parent?: Fingerprint | null;
}): FingerprintProblem[] {
  const out: FingerprintProblem[] = [];
  const { parent } = o;
  const merged = (key: string, f: string) =>
    parent !== undefined &&
    parent !== null &&
    isModelled(key, f) &&
    !sameAs(parent, o.base, key, f);
  for (const change of changedEntries(o.base, o.branch)) {
    const created = change.fields[0] === CREATED || replaced(change.key, o.base, o.branch);
    // A created entry must arrive whole: every field, not only the ones that changed.
    const fields = (
      created
        ? differingFields(o.rehearsed.entries[change.key], o.branch.entries[change.key])
        : change.fields.filter(
            (f) => !sameAs(o.rehearsed, o.branch, change.key, f) && !merged(change.key, f),
          )
    ).filter(
      (f) => !warned(change.key, f, o.branch.entries[change.key] ?? o.base.entries[change.key]),
    );
    if (fields.length === 0) continue;
    const details = describe(change.key, fields, o.rehearsed, o.branch, "after the merge");
    const what = objectWords(change.key, [o.branch, o.base]);
    out.push({
      key: change.key,
      fields,
      details,
      severity: "refuse",
      message: `the merge lost part of the branch's change of ${what}: ${details.join("; ")}`,
    });
  }
  return out;
}

const show = (v: string | null | undefined) => {
  if (v === undefined) return "absent";
  if (v === null) return "null";
  return JSON.stringify(v.length > 120 ? `${v.slice(0, 117)}...` : v);
};

function describe(
  key: string,
  fields: string[],
  other: Fingerprint,
  branch: Fingerprint,
  otherLabel: string,
) {
  const o = other.entries[key];
  const b = branch.entries[key];
  return fields.map((f) => {
    if (f === CREATED || f === DROPPED) return `${f.slice(1, -1)} on the branch`;
    const value = (e: FingerprintEntry | undefined) => (e ? (e.fields[f] ?? null) : undefined);
    return `${f}: ${show(value(b))} on the branch, ${show(value(o))} ${otherLabel}`;
  });
}

/** One line per problem, e.g. `class:public.t (owner: "alice" on the branch, ...)`. */
export function problemLines(problems: FingerprintProblem[]): string[] {
  return problems.map((p) => `${p.key} (${p.details.join("; ")})`);
}
