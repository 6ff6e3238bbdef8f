import { assertNever, type Conflict } from "../diff/changes.ts";
import { cellValue, describeObject, describePolicy, describeRow } from "./describe.ts";

/** A block of `-- ` lines describing one conflict: what, the three definitions, what to do. */
export function renderConflict(c: Conflict, n: number, total: number): string[] {
  const lines = [`-- conflict ${n} of ${total}: ${c.type} ${c.id}`];
  const sides = (base: string, parent: string, branch: string) => [
    ...definition("T0", base),
    ...definition("parent now", parent),
    ...definition("branch now", branch),
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
            `--     ${cell.column}: T0 ${cellValue(cell.base)}, parent now ${cellValue(cell.parent)}, branch now ${cellValue(cell.branch)}`,
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

/** `--   label: text` on one line, or the label then each line of the text indented. */
export function definition(label: string, text: string): string[] {
  const body = text.split("\n");
  if (body.length === 1) return [`--   ${label}: ${body[0]}`];
  return [`--   ${label}:`, ...body.map((l) => `--     ${l}`.trimEnd())];
}
