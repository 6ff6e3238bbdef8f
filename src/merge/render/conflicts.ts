import { assertNever, type Conflict } from "../diff/changes.ts";
import { cellValue, describeObject, describePolicy, describeRow } from "./describe.ts";

/** A block of `-- ` lines describing one conflict: what, the three definitions, what to do. */
export function renderConflict(
  c: Conflict,
  n: number,
  total: number,
  labels: SideLabels = DEFAULT_LABELS,
): string[] {
  const attrs =
    c.type === "both-modified" && c.attributes && c.attributes.length > 0
      ? ` (${c.attributes.join(", ")})`
      : "";
  const lines = [`-- conflict ${n} of ${total}: ${c.type} ${c.id}${attrs}`];
  const sides = (base: string, parent: string, branch: string) => [
    ...definition("T0", base),
    ...definition(labels.parent, parent),
    ...definition(labels.branch, branch),
  ];
  switch (c.type) {
    case "both-modified":
    case "both-created":
    case "modify-drop":
      lines.push(
        ...sides(describeObject(c.base), describeObject(c.parent), describeObject(c.branch)),
      );
      break;
    case "dependency": {
      const change = c.readerChange;
      lines.push(
        `--   the ${c.reader}'s ${change.type} of ${change.id} needs ${c.dependsOn}, which the other side changed:`,
      );
      lines.push(
        ...sides(describeObject(c.base), describeObject(c.parent), describeObject(c.branch)),
      );
      if (change.type === "create" || change.type === "alter") {
        lines.push(...definition(`${c.reader}'s ${change.id}`, describeObject(change.after)));
      }
      break;
    }
    case "row-conflict":
      lines.push(`--   table ${c.table}, key ${c.key}`);
      if (c.cells) {
        // merge-rows: only these cells conflict; the row's other cells merge.
        lines.push(`--   ${c.cells.length} cell(s) set differently on both sides:`);
        for (const cell of c.cells)
          lines.push(
            `--     ${cell.column}: T0 ${cellValue(cell.base)}, ${labels.parent} ${cellValue(cell.parent)}, ${labels.branch} ${cellValue(cell.branch)}`,
          );
      } else
        lines.push(...sides(describeRow(c.base), describeRow(c.parent), describeRow(c.branch)));
      break;
    case "policy-conflict":
      lines.push(`--   merge policy of ${c.table}`);
      lines.push(
        ...sides(describePolicy(c.base), describePolicy(c.parent), describePolicy(c.branch)),
      );
      break;
    default:
      return assertNever(c);
  }
  lines.push(`--   what to do: ${c.hint}`);
  return lines;
}

/** What the diff's two sides are called: a rebase runs the engine the other way round. */
export interface SideLabels {
  parent: string;
  branch: string;
}
export const DEFAULT_LABELS: SideLabels = { parent: "parent now", branch: "branch now" };
export const REBASE_LABELS: SideLabels = {
  parent: "branch now (being rebased)",
  branch: "parent now (rebased onto)",
};

/** `--   label: text` on one line, or the label then each line of the text indented. */
export function definition(label: string, text: string): string[] {
  const body = text.split("\n");
  if (body.length === 1) return [`--   ${label}: ${body[0]}`];
  return [`--   ${label}:`, ...body.map((l) => `--     ${l}`.trimEnd())];
}
