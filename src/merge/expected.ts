import type { DataTable, Snapshot, TablePolicy } from "./catalog/snapshot.ts";
import { assertNever, type Change } from "./diff/changes.ts";

/**
 * What the parent must look like after a merge: the parent now with the branch's
 * changes laid on top (`branch`: the branch now, for the shape of row tables new to the parent). A rehearsal whose result differs from this did not converge.
 */
export function expectedAfterMerge(
  parent: Snapshot,
  changes: Change[],
  branch?: Snapshot,
): Snapshot {
  const objects = { ...parent.objects };
  const policies = { ...parent.policies };
  const data: Record<string, DataTable> = {};
  for (const [table, t] of Object.entries(parent.data)) data[table] = { ...t, rows: { ...t.rows } };
  // A policy whose key or excluded columns change re-keys the parent's rows first; one that
  // arrives with its table (new on the branch) starts from the branch's shape, no rows yet.
  for (const c of changes) {
    if (c.type !== "policy-set") continue;
    if (data[c.table]) data[c.table] = rekey(data[c.table], c.after);
    else if (branch?.data[c.table]) data[c.table] = { ...branch.data[c.table], rows: {} };
  }
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

function rekey(t: DataTable, policy: TablePolicy): DataTable {
  const excluded = new Set(policy.excluded);
  const columns = t.columns.filter((c) => !excluded.has(c));
  const rows: DataTable["rows"] = {};
  for (const row of Object.values(t.rows)) {
    const kept = Object.fromEntries(columns.map((c) => [c, row[c] ?? null]));
    rows[JSON.stringify(policy.key.map((k) => row[k] ?? null))] = kept;
  }
  return { ...t, key: policy.key, excluded: [...policy.excluded].sort(), columns, rows };
}
