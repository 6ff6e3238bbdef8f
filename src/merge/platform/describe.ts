import { byString, type Change, type Row } from "../diff/changes.ts";
import { lineDiff, splitLines } from "./line-diff.ts";
import { PLATFORM_LAYERS, PLATFORM_TABLES, type PlatformTable, parseFiles } from "./registry.ts";

/** One platform config change as a reviewer reads it (also in the JSON reports). */
export interface PlatformChange {
  /** The change's id (`row:S.T:<key JSON>`), to find its statement. */
  id: string;
  table: string;
  layer: string;
  /** `function "send-invoice"`, `setting site_url`, `SMTP settings`. */
  subject: string;
  action: "added" | "changed" | "removed";
  /** What changed in it, e.g. `source changed (+12 −3 lines in index.ts)`, `cron "0 3 * * *" → "0 4 * * *"`. */
  details: string[];
  /** The whole line: `functions: function "send-invoice": source changed (+12 −3 lines in index.ts)`. */
  text: string;
}

// Names that say "credential": their values are never spelled out, whatever the table.
const SENSITIVE = /secret|password|passwd|token|encrypted|api_?key|private_key|credential/i;
const TIMESTAMP = /_at$/;
const SHORT = 80;

/**
 * The row changes of known platform config tables described in words, by layer then
 * table then key; other changes (unknown tables, schema, policies) are left out, they
 * keep the generic rendering. Values of excluded columns never reach a row; on top of
 * that, columns a table marks hidden, credential-like names and every value of a secret
 * table are only ever said to have changed.
 */
export function platformChanges(changes: Change[]): PlatformChange[] {
  const out: PlatformChange[] = [];
  for (const c of changes) {
    const d = describePlatformChange(c);
    if (d) out.push(d);
  }
  const layerAt = (l: string) => PLATFORM_LAYERS.indexOf(l as (typeof PLATFORM_LAYERS)[number]);
  return out.sort(
    (a, b) =>
      layerAt(a.layer) - layerAt(b.layer) || byString(a.table, b.table) || byString(a.id, b.id),
  );
}

/** One change in words, or null when it is not a row of a known platform table. */
export function describePlatformChange(c: Change): PlatformChange | null {
  if (c.type !== "row-upsert" && c.type !== "row-delete") return null;
  const t = PLATFORM_TABLES[c.table];
  if (!t) return null;
  const subject = subjectOf(t, c.key);
  const action = c.type === "row-delete" ? "removed" : c.before ? "changed" : "added";
  let details: string[] = [];
  if (action === "added" && c.after && !t.secret) details = t.added?.(c.after) ?? [];
  if (action === "changed" && c.before && c.after && !t.settings && !t.secret)
    details = changedColumns(t, c.before, c.after, c.keyColumns);
  const text =
    action === "changed" && details.length > 0
      ? `${t.layer}: ${subject}: ${details.join(", ")}`
      : `${t.layer}: ${subject} ${action}${details.length > 0 ? ` (${details.join(", ")})` : ""}`;
  return { id: c.id, table: c.table, layer: t.layer, subject, action, details, text };
}

function subjectOf(t: PlatformTable, key: string): string {
  if (t.single) return t.noun;
  let values: unknown;
  try {
    values = JSON.parse(key);
  } catch {
    values = [key];
  }
  const name = (Array.isArray(values) ? values : [values]).map((v) => String(v)).join(", ");
  return t.settings ? `${t.noun} ${name}` : `${t.noun} ${JSON.stringify(name)}`;
}

function changedColumns(t: PlatformTable, before: Row, after: Row, keyColumns: string[]): string[] {
  const columns = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort(byString);
  const details: string[] = [];
  const timestamps: string[] = [];
  for (const col of columns) {
    const b = before[col] ?? null;
    const a = after[col] ?? null;
    if (b === a || keyColumns.includes(col)) continue;
    if (TIMESTAMP.test(col)) timestamps.push(`${col} changed`);
    else if (t.files?.includes(col)) details.push(filesChange(col, b, a));
    else if (t.hidden?.includes(col) || SENSITIVE.test(col)) details.push(`${col} changed`);
    else if (t.prose?.includes(col)) details.push(`${col} changed${lineCounts(b, a)}`);
    else details.push(valueChange(t, col, b, a));
  }
  // A timestamp that moved with the change says nothing more; alone it is the change.
  return details.length > 0 ? details : timestamps;
}

function valueChange(t: PlatformTable, col: string, b: string | null, a: string | null): string {
  const word = t.columnWord ? `${t.columnWord} ` : "";
  if (isShort(b) && isShort(a)) return `${word}${col} ${shown(b)} → ${shown(a)}`;
  return `${word}${col} changed${lineCounts(b, a)}`;
}

/** `source changed (+12 −3 lines in index.ts; +4 lines in util.ts (new file))`, file by file. */
function filesChange(col: string, b: string | null, a: string | null): string {
  const before = parseFiles(b);
  const after = parseFiles(a);
  if (!before || !after) return `${col} changed${lineCounts(b, a)}`;
  const parts: string[] = [];
  for (const path of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort(byString)) {
    const old = before[path];
    const now = after[path];
    if (old === now) continue;
    if (old === undefined) parts.push(`+${splitLines(now).length} lines in ${path} (new file)`);
    else if (now === undefined) parts.push(`${path} removed (−${splitLines(old).length} lines)`);
    else {
      const n = lineDiff(old, now);
      parts.push(`+${n.added} −${n.removed} lines in ${path}`);
    }
  }
  return parts.length > 0 ? `source changed (${parts.join("; ")})` : `${col} changed`;
}

function lineCounts(b: string | null, a: string | null): string {
  if (!b?.includes("\n") && !a?.includes("\n")) return "";
  const n = lineDiff(b ?? "", a ?? "");
  return ` (+${n.added} −${n.removed} lines)`;
}

const isShort = (v: string | null) => v === null || (v.length <= SHORT && !v.includes("\n"));

/** A value as a reviewer reads it: booleans, numbers and JSON as they are, text quoted. */
function shown(v: string | null): string {
  if (v === null) return "null";
  if (v === "true" || v === "false" || /^-?\d+(\.\d+)?$/u.test(v) || /^[[{"]/u.test(v)) return v;
  return JSON.stringify(v);
}
