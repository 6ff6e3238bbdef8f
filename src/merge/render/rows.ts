import { byString, type Change } from "../diff/changes.ts";
import { describePlatformChange } from "../platform/describe.ts";
import { cellValue } from "./describe.ts";

type RowChange = Extract<Change, { type: "row-upsert" | "row-delete" }>;

/** Row changes listed per table, this many at most (the statements below list them all). */
export const ROWS_SHOWN = 20;

/**
 * The branch's row changes of tables the platform describer does not know (user tables:
 * merge-rows reference data, custom config), in words: `+` a new row with its cells,
 * `~` the cells that change (parent now → merged), `-` a deleted row, by key. Each table
 * shows its first ROWS_SHOWN and a count of the rest.
 */
export function rowChangeLines(changes: Change[], shown = ROWS_SHOWN): string[] {
  const byTable = new Map<string, RowChange[]>();
  for (const c of changes) {
    if (c.type !== "row-upsert" && c.type !== "row-delete") continue;
    if (describePlatformChange(c)) continue;
    byTable.set(c.table, [...(byTable.get(c.table) ?? []), c]);
  }
  const out: string[] = [];
  for (const table of [...byTable.keys()].sort(byString)) {
    const rows = byTable.get(table) ?? [];
    const n = (f: (c: RowChange) => boolean) => rows.filter(f).length;
    out.push(
      `-- rows of ${table}: ${n((c) => c.type === "row-upsert" && !c.before)} inserted, ${n((c) => c.type === "row-upsert" && c.before !== null)} updated, ${n((c) => c.type === "row-delete")} deleted`,
    );
    for (const c of rows.slice(0, shown)) out.push(`--   ${rowLine(c)}`);
    if (rows.length > shown)
      out.push(`--   ... and ${rows.length - shown} more row change(s) of ${table}`);
  }
  return out;
}

function rowLine(c: RowChange): string {
  const values = JSON.parse(c.key) as (string | null)[];
  const key = c.keyColumns.map((k, i) => `${k} = ${cellValue(values[i] ?? null)}`);
  const at = key.join(", ");
  if (c.type === "row-delete") return `- ${at}`;
  const others = Object.keys(c.after)
    .filter((col) => !c.keyColumns.includes(col))
    .sort(byString);
  if (!c.before) {
    const set = others.map((col) => `${col} = ${cellValue(c.after[col])}`);
    return `+ ${at}${set.length > 0 ? `: ${set.join(", ")}` : ""}`;
  }
  const before = c.before;
  const changed = others
    .filter((col) => before[col] !== c.after[col])
    .map(
      (col) =>
        `${col} ${col in before ? cellValue(before[col]) : "(new column)"} → ${cellValue(c.after[col])}`,
    );
  return `~ ${at}: ${changed.join(", ")}`;
}
