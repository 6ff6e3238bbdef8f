import { tableId } from "../catalog/ids.ts";
import type { Snapshot } from "../catalog/snapshot.ts";
import { byString, type DiffResult } from "../diff/changes.ts";
import { type RenameHint, renameHintText } from "./hints.ts";

/** A drop + create pair of the diff that looks like one object renamed. */
export interface RenameSuggestion {
  kind: "table" | "column";
  /** Ids of the dropped and the created object. */
  dropped: string;
  created: string;
  /** The flag that keeps the data, e.g. `--rename table:public.a=public.b`. */
  flag: string;
  /** Why it looks like a rename, for the reviewer. */
  reason: string;
}

/**
 * Pairs the merge would drop and create that look like renames: a dropped table and a
 * created one with the same columns (names and types), or on one table a dropped and an
 * added column of the same type. A drop loses its rows, so each comes with the exact
 * `--rename` flag that keeps them. Pure: it reads the diff and both sides' snapshots.
 */
export function suggestRenames(
  diff: DiffResult,
  snaps: { parent: Snapshot; branch: Snapshot },
): RenameSuggestion[] {
  const dropped = diff.changes.flatMap((c) => (c.type === "drop" ? [c.before] : []));
  const created = diff.changes.flatMap((c) => (c.type === "create" ? [c.after] : []));
  const out: RenameSuggestion[] = [];
  if (!dropped.some((o) => o.kind === "table" || o.kind === "column")) return out;
  const parentColumns = signatures(snaps.parent);
  const branchColumns = signatures(snaps.branch);
  const droppedTables = new Set(dropped.filter((o) => o.kind === "table").map((o) => o.id));
  const createdTables = new Set(created.filter((o) => o.kind === "table").map((o) => o.id));
  for (const d of dropped) {
    if (d.kind !== "table") continue;
    const signature = parentColumns.get(d.id) ?? "";
    if (signature === "") continue;
    for (const c of created) {
      if (c.kind !== "table" || branchColumns.get(c.id) !== signature) continue;
      out.push(
        suggestion(
          { kind: "table", schema: d.schema, name: d.name, toSchema: c.schema, toName: c.name },
          {
            dropped: d.id,
            created: c.id,
            reason: "the created table has the same columns (names and types)",
          },
        ),
      );
    }
  }
  for (const d of dropped) {
    if (d.kind !== "column") continue;
    const table = tableId(d.schema, d.table);
    if (droppedTables.has(table) || createdTables.has(table)) continue;
    for (const c of created) {
      if (c.kind !== "column" || c.schema !== d.schema || c.table !== d.table) continue;
      if (c.type !== d.type) continue;
      out.push(
        suggestion(
          { kind: "column", schema: d.schema, table: d.table, name: d.name, toName: c.name },
          {
            dropped: d.id,
            created: c.id,
            reason: `a column of the same type (${c.type}) is added to the table`,
          },
        ),
      );
    }
  }
  return out.sort((a, b) => byString(a.flag, b.flag));
}

function suggestion(
  h: RenameHint,
  o: { dropped: string; created: string; reason: string },
): RenameSuggestion {
  return { kind: h.kind, ...o, flag: `--rename ${renameHintText(h)}` };
}

/** Each table's columns as sorted `name type` lines. */
function signatures(snap: Snapshot): Map<string, string> {
  const lines = new Map<string, string[]>();
  for (const o of Object.values(snap.objects)) {
    if (o.kind !== "column") continue;
    const t = tableId(o.schema, o.table);
    const list = lines.get(t);
    if (list) list.push(`${o.name} ${o.type}`);
    else lines.set(t, [`${o.name} ${o.type}`]);
  }
  return new Map([...lines].map(([t, l]) => [t, l.sort(byString).join("\n")]));
}

/** The preview's lines for the suggestions (empty when there are none). */
export function suggestionLines(suggestions: RenameSuggestion[]): string[] {
  if (suggestions.length === 0) return [];
  const out = [
    `-- ⚠️ LOOKS LIKE A RENAME: ${suggestions.length} drop + create pair(s) would lose rows`,
  ];
  for (const s of suggestions) {
    out.push(
      `--   ${s.dropped} dropped, ${s.created} created: ${s.reason}`,
      `--   if it was renamed, merge with ${s.flag} (its rows are kept)`,
    );
  }
  out.push("--");
  return out;
}
