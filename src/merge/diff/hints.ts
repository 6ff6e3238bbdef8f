/** What to do about each conflict, in words for the preview. */

const AGAIN = "then merge again";

export function objectHint(o: {
  type: "both-modified" | "both-created" | "modify-drop";
  parentDropped: boolean;
  branchDropped: boolean;
  attributes?: string[];
}): string {
  const what =
    o.attributes && o.attributes.length > 0
      ? `the ${o.attributes.join(", ")} of this object`
      : "this object";
  switch (o.type) {
    case "both-modified":
      return `both sides changed ${what} differently: make the branch match the parent's definition (keeping your change on top if you still need it), or reset the branch, ${AGAIN}`;
    case "both-created":
      return `both sides created this object with different definitions: rename yours or make it match the parent's, ${AGAIN}`;
    case "modify-drop":
      return o.parentDropped
        ? `the parent dropped this object, which the branch changed: drop it on the branch too (or ask for it to be restored on the parent), ${AGAIN}`
        : `the branch dropped this object, which the parent changed: recreate it on the branch with the parent's definition (or drop it on the parent first), ${AGAIN}`;
  }
}

export function dependencyHint(o: {
  reader: "branch" | "parent";
  dependsOn: string;
  dropped: boolean;
}): string {
  const what = o.dropped ? "dropped" : "changed";
  return o.reader === "branch"
    ? `the parent ${what} ${o.dependsOn}, which this branch change relies on: adapt the branch to the parent's ${o.dropped ? "schema" : "new definition"} (or reset the branch and redo the change), ${AGAIN}`
    : `the branch ${what} ${o.dependsOn}, which the parent now relies on: keep it on the branch as the parent has it, or change the parent's dependent object first, ${AGAIN}`;
}

export const ROW_HINT = `both sides changed this config row differently: make the branch's row match the parent's (or re-apply your edit on top of it), ${AGAIN}`;

export const ROW_CELLS_HINT = `both sides set these cells of the row to different values (its other cells merge): set them on the branch as the parent has them (or re-apply your edit on top), ${AGAIN}`;

export const ROW_DELETE_HINT = `one side deleted this row and the other changed it: delete it on the branch too, or restore it there as the parent has it, ${AGAIN}`;

export const POLICY_HINT = `both sides changed this table's merge policy differently: make bough.table_policies on the branch match the parent's, ${AGAIN}`;
