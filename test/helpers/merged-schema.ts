import assert from "node:assert/strict";
import { withClient } from "../../src/branches/sql.ts";
import { comparable, sameObject } from "../../src/merge/catalog/equality.ts";
import type { Snapshot } from "../../src/merge/catalog/snapshot.ts";
import { introspect } from "../../src/merge/introspect/index.ts";

/**
 * The parent's schema after a merge, object by object: the parent's own version of what
 * the parent changed since `base` (the merge base), the branch's version of everything
 * else (present or absent). Checks the whole introspected schema of the parent, so a
 * test proves what the merge did, not only what its report says.
 */
export async function assertMergedSchema(o: {
  main: string;
  branch: string;
  base: Snapshot;
  parentBefore: Snapshot;
}): Promise<void> {
  const branch = await withClient(o.branch, introspect);
  const after = await withClient(o.main, introspect);
  const expected: Record<string, string> = {};
  const ids = new Set([o.base, o.parentBefore, branch].flatMap((x) => Object.keys(x.objects)));
  for (const id of [...ids].sort()) {
    const parentChanged = !sameObject(o.base.objects[id], o.parentBefore.objects[id]);
    const want = parentChanged ? o.parentBefore.objects[id] : branch.objects[id];
    if (want) expected[id] = comparable(want);
  }
  const actual: Record<string, string> = {};
  for (const id of Object.keys(after.objects).sort()) actual[id] = comparable(after.objects[id]);
  assert.deepEqual(actual, expected);
}
