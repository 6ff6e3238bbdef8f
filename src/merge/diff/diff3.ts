import type { Snapshot } from "../catalog/snapshot.ts";
import { byString, type Change, type Conflict, type DiffResult } from "./changes.ts";
import { diffPolicies, diffRows } from "./data.ts";
import { dependencyConflicts } from "./footprint.ts";
import { diffObjects } from "./objects.ts";

/**
 * Three-way diff of T0 (`base`), the parent now and the branch now. Pure and
 * deterministic: the order of keys in the inputs never changes the result.
 *
 * @example const { changes, conflicts } = diff3(t0, parentNow, branchNow);
 */
export function diff3(base: Snapshot, parent: Snapshot, branch: Snapshot): DiffResult {
  const objects = diffObjects(base, parent, branch);
  const policies = diffPolicies(base, parent, branch);
  const rows = diffRows(base, parent, branch);
  const branchChanges = sortChanges([...objects.branch, ...policies.branch, ...rows.branch]);
  const parentChanges = sortChanges([...objects.parent, ...policies.parent, ...rows.parent]);
  const conflicts: Conflict[] = [
    ...objects.conflicts,
    ...policies.conflicts,
    ...rows.conflicts,
    ...dependencyConflicts({ base, parent, branch, branchChanges, parentChanges }),
  ];
  conflicts.sort(
    (a, b) =>
      byString(a.id, b.id) || byString(a.type, b.type) || byString(dependsOn(a), dependsOn(b)),
  );
  // A branch change caught in a conflict cannot be applied as it stands.
  const blocked = new Set<string>();
  for (const c of conflicts) {
    blocked.add(c.id);
    if (c.type === "dependency" && c.reader === "parent") blocked.add(c.dependsOn);
  }
  return {
    changes: branchChanges.filter((c) => !blocked.has(c.id)),
    conflicts,
    parentChanges,
  };
}

const dependsOn = (c: Conflict) => (c.type === "dependency" ? c.dependsOn : "");

function sortChanges(changes: Change[]): Change[] {
  return changes.sort((a, b) => byString(a.id, b.id));
}
