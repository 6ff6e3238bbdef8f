import { differingIds } from "../catalog/equality.ts";
import { defaultAclId } from "../catalog/ids.ts";
import type { Snapshot } from "../catalog/snapshot.ts";
import { type FingerprintProblem, unexplainedChanges } from "./compare.ts";
import type { Fingerprint } from "./types.ts";

export {
  changedEntries,
  type FingerprintProblem,
  lostChanges,
  problemLines,
  unexplainedChanges,
} from "./compare.ts";
export { readFingerprint } from "./read.ts";
export type { Fingerprint, FingerprintEntry } from "./types.ts";
export { type Severity, severityOf } from "./unmodelled.ts";

/** What prepare learnt from the fingerprints. */
export interface FingerprintCheck {
  /** Why the check did not run (null when it did): e.g. the branch has no stored fingerprint. */
  skipped: string | null;
  /** Changes of the branch no modelled change explains that would change behaviour: they block the merge. */
  unmergeable: FingerprintProblem[];
  /** Unmodelled changes that do not (planner statistics, storage, comments): merged without them, said by name. */
  notCarried: FingerprintProblem[];
}

/**
 * Snapshot ids the branch changed since the base, with the objects their grants and
 * comments are on (an ACL or a comment is a field of that object in the fingerprint), and
 * the default-privilege entries of changed grantees (one ACL field per entry).
 */
export function changedSnapshotIds(base: Snapshot, branch: Snapshot): Set<string> {
  const out = new Set<string>();
  for (const id of differingIds(base, branch)) {
    out.add(id);
    const o = branch.objects[id] ?? base.objects[id];
    if (o?.kind === "grant") out.add(o.target);
    if (o?.kind === "default_privilege") out.add(defaultAclId(o.role, o.schema, o.objects));
  }
  return out;
}

/**
 * The branch's changes since the base that bough cannot merge (see unexplainedChanges).
 * Null fingerprints (a branch created by an older bough, a server older than PG 15)
 * skip the check, and say so.
 */
export function checkFingerprints(o: {
  base: Snapshot;
  branch: Snapshot;
  fingerprints: {
    base: Fingerprint | null;
    branch: Fingerprint | null;
    parent: Fingerprint | null;
  };
}): FingerprintCheck {
  const { base, branch, parent } = o.fingerprints;
  if (!base) {
    return {
      skipped:
        "the branch has no stored catalog fingerprint (created by an older bough): changes the snapshot does not model are not detected; reset or re-create the branch to get the check",
      unmergeable: [],
      notCarried: [],
    };
  }
  if (!branch || !parent) {
    return {
      skipped: "the catalog fingerprint needs PostgreSQL 15 or later",
      unmergeable: [],
      notCarried: [],
    };
  }
  const changedIds = changedSnapshotIds(o.base, o.branch);
  const problems = unexplainedChanges({ base, branch, parent, changedIds });
  return {
    skipped: null,
    unmergeable: problems.filter((p) => p.severity === "refuse"),
    notCarried: problems.filter((p) => p.severity === "warn"),
  };
}

/** "the branch changed N object(s) bough cannot merge: the branch created range type public.span; ..." for errors. */
export function unmergeableMessage(problems: FingerprintProblem[]): string {
  return `the branch changed ${problems.length} object(s) bough cannot merge: ${problems.map((p) => p.message).join("; ")}`;
}
