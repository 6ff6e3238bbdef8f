import type { DataTable, Snapshot } from "./catalog/snapshot.ts";
import { assertNever, type Change } from "./diff/changes.ts";

/**
 * What the parent must look like after a merge: the parent now with the branch's
 * changes laid on top. A rehearsal whose result differs from this did not converge.
 */
export function expectedAfterMerge(parent: Snapshot, changes: Change[]): Snapshot {
  const objects = { ...parent.objects };
  const policies = { ...parent.policies };
  const data: Record<string, DataTable> = {};
  for (const [table, t] of Object.entries(parent.data)) data[table] = { ...t, rows: { ...t.rows } };
  for (const c of changes) {
    switch (c.type) {
      case "create":
      case "alter":
        objects[c.id] = c.after;
        break;
      case "drop":
        delete objects[c.id];
        break;
      case "row-upsert":
        if (data[c.table]) data[c.table].rows[c.key] = c.after;
        break;
      case "row-delete":
        if (data[c.table]) delete data[c.table].rows[c.key];
        break;
      case "policy-set":
        policies[c.table] = c.after;
        break;
      case "policy-delete":
        delete policies[c.table];
        break;
      default:
        assertNever(c);
    }
  }
  return { ...parent, objects, policies, data };
}
