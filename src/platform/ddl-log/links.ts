import { qualified, splitQualified } from "../../merge/catalog/ids.ts";
import type { DdlEntry } from "./read.ts";

/** A DDL log row as a merge review cites it under a change. */
export interface DdlRef {
  id: number;
  at: string;
  /** The role in effect when it ran. */
  actor: string;
  applicationName: string;
  commandTag: string;
  /** The statement text, cut at 500 characters. */
  statement: string;
}

const MAX_STATEMENT = 500;

/**
 * The object a snapshot id belongs to, as qualified names: `column:public.t.c`,
 * `index:public.i`, `trigger:public.t.x` → `public.t` / `public.i` / `public.t`;
 * `function:public.f(integer)` → `public.f`; a grant or comment → its target's. Null for
 * data changes (rows, table policies), which no DDL makes.
 */
export function ownerKey(id: string): string | null {
  const colon = id.indexOf(":");
  if (colon < 0) return null;
  const kind = id.slice(0, colon);
  const rest = id.slice(colon + 1);
  switch (kind) {
    case "grant":
      return ownerKey(rest.slice(0, rest.lastIndexOf(":")));
    case "comment":
      return ownerKey(rest);
    case "publication_table":
    case "publication_schema":
      return firstTwo(rest.slice(rest.indexOf(":") + 1));
    case "function":
      // The name ends at the first "(" outside quotes that leaves a whole S.F before it.
      for (let i = rest.indexOf("("); i >= 0; i = rest.indexOf("(", i + 1)) {
        const names = splitQualified(rest.slice(0, i));
        if (names?.length === 2) return qualified(...names);
      }
      return null;
    case "row":
    case "table_policy":
      return null;
    default:
      return firstTwo(rest);
  }
}

function firstTwo(text: string): string | null {
  const names = splitQualified(text);
  return names && names.length > 0 ? qualified(...names.slice(0, 2)) : null;
}

/**
 * For each change, the DDL log rows that touched the object it belongs to (by object
 * identity: a row's objects' targets), oldest first. Changes no row touched are left out.
 */
export function linkChanges(
  changes: readonly { id: string }[],
  entries: readonly DdlEntry[],
): Record<string, DdlRef[]> {
  const byKey = new Map<string, DdlEntry[]>();
  for (const e of entries) {
    const keys = new Set(
      e.objects.flatMap((o) => (o.target && o.target.length > 0 ? [qualified(...o.target)] : [])),
    );
    for (const k of keys) byKey.set(k, [...(byKey.get(k) ?? []), e]);
  }
  const out: Record<string, DdlRef[]> = {};
  for (const c of changes) {
    const key = ownerKey(c.id);
    const hits = key === null ? undefined : byKey.get(key);
    if (hits) out[c.id] = hits.map(ddlRef);
  }
  return out;
}

const ddlRef = (e: DdlEntry): DdlRef => ({
  id: e.id,
  at: e.at,
  actor: e.currentUser,
  applicationName: e.applicationName,
  commandTag: e.commandTag,
  statement:
    e.statement.length > MAX_STATEMENT
      ? `${e.statement.slice(0, MAX_STATEMENT - 1)}…`
      : e.statement,
});

/** The first line of a statement, shortened for a table cell or a review line. */
export function statementLine(sql: string, max = 100): string {
  const line = sql.trim().split("\n")[0];
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
